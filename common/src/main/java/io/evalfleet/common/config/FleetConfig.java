package io.evalfleet.common.config;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The fleet's settings, read once at start-up from (lowest precedence first) the defaults, a
 * properties file, {@code EVALFLEET_*} environment variables and command-line overrides. Every bad
 * value is reported at once. Keys starting with {@code kafka.} are handed to the Kafka clients
 * without the prefix (for example {@code kafka.security.protocol=SASL_SSL}), keys starting with
 * {@code hadoop.} to Hadoop's FileSystem (for example {@code hadoop.fs.s3a.endpoint=...}).
 * Immutable.
 */
public final class FleetConfig {
  /** What Kafka accepts as a group member id ({@code group.instance.id}). */
  private static final Pattern VALID_MEMBER_ID = Pattern.compile("[A-Za-z0-9._-]{1,249}");

  public static final Setting<String> BOOTSTRAP_SERVERS =
      Setting.text(
          "kafka.bootstrap.servers",
          "localhost:9092",
          "Kafka brokers to connect to. Every other `kafka.*` key is passed to the Kafka clients as is (TLS, SASL, ...).");
  public static final Setting<Integer> SHARD_ROWS =
      Setting.positiveInt(
          "dispatcher.shard-rows",
          256,
          "Most golden-subset rows in one scoring job (about a second of CPU work for a small embedding model). Shards follow row-group boundaries: small row groups are packed together, large ones split. Smaller jobs spread a run over more workers; larger ones spend less on per-job costs and pad less, since texts are batched by length within a job.");
  public static final Setting<Integer> MAX_IN_FLIGHT_PER_RUN =
      Setting.positiveInt(
          "dispatcher.max-jobs-in-flight-per-run",
          4,
          "Most jobs of one run published and not yet answered, so one large run cannot starve the others.");
  public static final Setting<Integer> MAX_IN_FLIGHT =
      Setting.positiveInt(
          "dispatcher.max-jobs-in-flight",
          32,
          "Most jobs of all runs published and not yet answered: bounds the backlog on the jobs topic.");
  public static final Setting<Duration> RUN_DEADLINE =
      Setting.duration(
          "dispatcher.run-deadline",
          "PT15M",
          "How long a run may take from its staged event to its last shard; then it is flagged INCOMPLETE with its coverage.");
  public static final Setting<Duration> JOB_TIMEOUT =
      Setting.duration(
          "dispatcher.job-timeout",
          "PT5M",
          "How long a published job may go unanswered before it is sent again (at most 3 attempts). A worker that dies mid-job needs no timeout: the consumer group redelivers its job.");
  public static final Setting<Duration> DECIDED_LOOK_BACK =
      Setting.duration(
          "dispatcher.decided-look-back",
          "P7D",
          "How long the dispatcher remembers that an event was decided (in its `decided` state store), so that the same event staged again gets no second flag. Must exceed the age of the oldest event that can be delivered again.");
  public static final Setting<Long> JOB_TOKENS =
      new Setting<>(
          "dispatcher.job-tokens",
          "65536",
          Long::valueOf,
          v -> v > 0,
          "a positive number of tokens",
          "Most tokens in one causal-LM scoring job, counted from the golden subset's row lengths (token ids, or UTF-8 bytes of text) with each long row's sliding windows: a subset of long rows is split into more jobs than `dispatcher.shard-rows` alone gives, so it spreads over the fleet. A row longer than this is a job of its own. Embedding jobs are bounded by rows only.");
  public static final Setting<String> DISPATCHER_STATE_DIR =
      Setting.text(
          "dispatcher.state-dir",
          Path.of(System.getProperty("user.home"), ".evalfleet", "dispatcher-state").toString(),
          "Local directory of the dispatcher's state stores (a cache: they are restored from their changelog topics when it is empty). Two dispatchers on one machine need two directories.");
  public static final Setting<Integer> STANDBY_REPLICAS =
      new Setting<>(
          "dispatcher.standby-replicas",
          "0",
          Integer::valueOf,
          v -> v >= 0,
          "0 or more",
          "Warm copies of each partition's run state kept on other dispatcher instances, so that a run moves to another instance without restoring its state first.");
  public static final Setting<Integer> STREAM_THREADS =
      Setting.positiveInt(
          "dispatcher.stream-threads",
          1,
          "Threads of one dispatcher instance, each owning some partitions of the staged-events topic.");
  public static final Setting<Duration> DISPATCHER_SESSION_TIMEOUT =
      Setting.duration(
          "dispatcher.session-timeout",
          "PT10S",
          "How long a dispatcher instance that stopped answering (killed, partitioned) keeps its runs before another instance takes them over.");
  public static final Setting<String> POLICY =
      new Setting<>(
          "verdict.policy",
          "",
          String::trim,
          s -> true,
          "a path to a policy file, or empty",
          "The decision policy (margins, directions, confidence, bootstrap, correction, band), a JSON file kept in version control; empty: the bundled `policy/evalfleet-policy.json`.");
  public static final Setting<Boolean> REUSE_SCORES =
      new Setting<>(
          "dispatcher.reuse-scores",
          "true",
          Boolean::valueOf,
          v -> true,
          "true or false",
          "Whether an evaluation identical to an archived one (same artifact, tokenizer, golden subset, evaluator version, max_seq_len and stride) reuses its per-row scores instead of scoring again.");
  public static final Setting<String> ARCHIVE_ROOT =
      new Setting<>(
          "archive.root",
          Path.of(System.getProperty("user.home"), ".evalfleet", "archive").toUri().toString(),
          String::trim,
          s -> !s.isBlank(),
          "a directory URI",
          "Where per-row scores, retrieval embeddings (written by workers), evaluation lockfiles and baseline history are kept (any Hadoop file system: `file:`, `hdfs:`, `s3a:`); the dispatcher, the workers and the notifier all reach it.");
  public static final Setting<Integer> WORKER_CONCURRENCY =
      Setting.positiveInt(
          "worker.concurrency",
          1,
          "Jobs a worker scores at the same time; its partitions are paused while this many are running.");
  public static final Setting<Integer> INTRA_OP_THREADS =
      Setting.positiveInt(
          "worker.intra-op-threads",
          2,
          "ONNX Runtime intra-op threads per session (set explicitly: the default takes every core).");
  public static final Setting<Integer> BATCH_SIZE =
      Setting.positiveInt(
          "worker.batch-size",
          32,
          "Most sequences in one forward pass, for models whose outputs do not depend on batching.");
  public static final Setting<Long> LOGITS_BUDGET =
      new Setting<>(
          "worker.logits-budget",
          "16777216",
          Long::valueOf,
          v -> v > 0,
          "a positive number of logits",
          "Causal LMs: most logits one forward pass may produce (windows x longest window x vocabulary; 2^24 = 64 MiB of float32), so that a large vocabulary gets smaller batches. On a GPT-2-small-shaped model (vocabulary 8192, context 256, `bench causal-worker`) this default scored 5309 tokens/s through Kafka against 4713 without a budget (batches of 32).");
  public static final Setting<Integer> MAX_SEQ_LEN =
      Setting.positiveInt(
          "worker.default-max-seq-len",
          256,
          "Token limit for an embedding model when the staged event gives no max_seq_len; longer texts are truncated.");
  public static final Setting<String> EXECUTION_PROVIDER =
      new Setting<>(
          "worker.execution-provider",
          "auto",
          s -> s.trim().toLowerCase(Locale.ROOT),
          s -> s.equals("cpu") || s.equals("cuda") || s.equals("auto"),
          "cpu, cuda or auto",
          "ONNX Runtime execution provider: auto uses CUDA when the GPU build (mvn -Pgpu) finds a GPU, else CPU, and says so in the log and in every shard result; cuda refuses to start without it.");
  public static final Setting<Boolean> DETERMINISTIC_COMPUTE =
      new Setting<>(
          "worker.deterministic-compute",
          "false",
          Boolean::valueOf,
          v -> true,
          "true or false",
          "Asks ONNX Runtime for deterministic kernels (SessionOptions.setDeterministicCompute), recorded in every shard result's envelope. Off by default: on CPU the kernels the fleet runs are already deterministic for a given batch shape and thread count (measured: `evalfleet noise-floor` finds no difference from it), it cannot make a dynamically quantised model batch-invariant, and ONNX Runtime promises no cross-machine reproducibility either way; on CUDA it trades speed for run-to-run repeatability. Turn it on for GPU workers whose noise floor is above a policy's margins.");
  public static final Setting<String> ALLOWED_ROOTS =
      new Setting<>(
          "storage.allowed-roots",
          "",
          String::trim,
          s -> true,
          "a comma-separated list of URIs",
          "Where artifacts and golden subsets may be read from, e.g. `file:///data/models,s3a://ml/staged`; anything outside is an ERROR flag. Empty: anywhere. The archive (`archive.root`) is always allowed: workers write a retrieval run's embeddings there.");
  public static final Setting<Integer> STORAGE_ATTEMPTS =
      Setting.positiveInt(
          "storage.attempts",
          3,
          "Tries per storage call on transient I/O errors (exponential backoff from 200 ms); a missing file or a digest mismatch is never retried.");
  public static final Setting<Duration> STORAGE_BREAKER_OPEN =
      Setting.duration(
          "storage.breaker-open",
          "PT30S",
          "How long storage calls fail fast once most recent ones failed (the circuit breaker is open) before one is tried again; jobs that meet an unavailable store are sent again after a pause until their run's deadline, which then ends the run INCOMPLETE naming the store.");
  public static final Setting<Duration> DRAIN_TIMEOUT =
      Setting.duration(
          "worker.drain-timeout",
          "PT30S",
          "On SIGTERM, how long a worker lets its running jobs finish and publish before it closes; jobs still running then are abandoned uncommitted, so another worker scores them.");
  public static final Setting<Long> CACHE_MAX_BYTES =
      new Setting<>(
          "worker.cache-max-bytes",
          "10737418240",
          Long::valueOf,
          v -> v > 0,
          "a positive number of bytes",
          "Most bytes of remote models (and their external data files) kept in the worker's local cache; the least recently used are evicted first, never one in use.");
  public static final Setting<Integer> CONCURRENT_MODEL_LOADS =
      Setting.positiveInt(
          "worker.concurrent-model-loads",
          1,
          "Most models a worker fetches and loads at the same time (a bulkhead: loads are memory- and I/O-heavy); jobs that need a model wait their turn.");
  public static final Setting<Integer> MAX_LOADED_MODELS =
      Setting.positiveInt(
          "worker.max-loaded-models",
          4,
          "Most ONNX Runtime sessions a worker keeps open; the least recently used idle one is closed to make room.");
  public static final Setting<Integer> METRICS_PORT =
      new Setting<>(
          "metrics.port",
          "9400",
          Integer::valueOf,
          p -> p >= -1 && p <= 65535,
          "a port number, 0 for any free port, or -1 for none",
          "Port of the role's HTTP endpoints: `/metrics` (Prometheus), `/health/live` and `/health/ready`.");
  public static final Setting<String> WORKER_ID =
      new Setting<>(
          "worker.id",
          defaultWorkerId(),
          String::trim,
          id -> VALID_MEMBER_ID.matcher(id).matches(),
          "at most 249 ASCII letters, digits, '.', '_' or '-' (Kafka's rule for a group member id)",
          "Name of this worker in shard results and logs, and its static member id in the workers' consumer group: a worker restarted under the same id takes its partitions back at once, without a rebalance. Must be unique in the fleet (a pod's name); the default (`<host>-<pid>`, other characters replaced by `-`) is.");
  public static final Setting<Integer> MAX_DELIVERIES =
      Setting.positiveInt(
          "worker.max-deliveries",
          3,
          "How many workers a job may be delivered to without an answer before its next delivery is scored alone, in a JVM that the worker starts as it was started (same java, class path, heap and settings). Workers also die of causes of their own (a crash-looping node, spot instances), so these deliveries only make the job a suspect: scored alone, its answer is the job's answer; only that process dying while its worker lives (out of memory, a signal, a native crash) answers the job with an error naming the shard and the evidence. A worker killed meanwhile blames nothing: the job is delivered again.");
  public static final Setting<String> WEBHOOK_URL =
      new Setting<>(
          "notifier.webhook-url",
          "",
          String::trim,
          s -> s.isEmpty() || s.startsWith("http://") || s.startsWith("https://"),
          "an http(s) URL, or empty",
          "Where the notifier POSTs every review as signed JSON; empty: no webhook.");
  public static final Setting<String> WEBHOOK_SECRET_FILE =
      new Setting<>(
          "notifier.webhook-secret-file",
          "",
          String::trim,
          s -> true,
          "a file path, or empty",
          "A file holding the webhook's HMAC-SHA256 secret; empty: the environment variable `WEBHOOK_SECRET`. A webhook needs one.");
  public static final Setting<String> GITHUB_API =
      Setting.text(
          "notifier.github-api-url",
          "https://api.github.com",
          "GitHub's REST API (GitHub Enterprise: `https://host/api/v3`).");
  public static final Setting<String> GITHUB_TOKEN_FILE =
      new Setting<>(
          "notifier.github-token-file",
          "",
          String::trim,
          s -> true,
          "a file path, or empty",
          "A file holding the token the notifier comments on GitHub with (a mounted secret); empty: the environment variable `GITHUB_TOKEN`. Without a token, GitHub reviews are not delivered.");
  public static final Setting<String> GITLAB_API =
      Setting.text("notifier.gitlab-api-url", "https://gitlab.com/api/v4", "GitLab's REST API.");
  public static final Setting<String> GITLAB_TOKEN_FILE =
      new Setting<>(
          "notifier.gitlab-token-file",
          "",
          String::trim,
          s -> true,
          "a file path, or empty",
          "A file holding the token the notifier writes GitLab notes with; empty: the environment variable `GITLAB_TOKEN`. Without a token, GitLab reviews are not delivered.");
  public static final Setting<String> REPORT_BASE_URL =
      new Setting<>(
          "notifier.report-base-url",
          "",
          String::trim,
          s -> s.isEmpty() || s.startsWith("http://") || s.startsWith("https://"),
          "an http(s) URL, or empty",
          "Where reviewers can open the archive's root (a web server or bucket in front of `archive.root`): comments link the report and show its histogram from there. Empty: comments name the report's archive URI and show a text histogram only.");
  public static final Setting<Integer> DELIVERY_ATTEMPTS =
      Setting.positiveInt(
          "notifier.delivery-attempts",
          6,
          "Attempts to deliver a review to a target before it goes to the dead-letter topic; only 5xx, 429 and connection failures are retried.");
  public static final Setting<Duration> DELIVERY_BACKOFF =
      Setting.duration(
          "notifier.delivery-backoff",
          "PT1S",
          "The wait before the second attempt, doubled for each further one; a `Retry-After` asked by the target is honoured, up to `notifier.delivery-max-wait`.");
  public static final Setting<Duration> DELIVERY_MAX_WAIT =
      Setting.duration(
          "notifier.delivery-max-wait", "PT60S", "The longest wait between two attempts.");
  public static final Setting<Integer> NOTIFIER_CONCURRENCY =
      Setting.positiveInt(
          "notifier.concurrency",
          4,
          "Reviews the notifier writes and delivers at once; a target that is down holds one of them per flag, never the others.");

  public static final Setting<String> FLAG_SIGNING_KEY =
      new Setting<>(
          "flags.signing-key",
          "",
          String::trim,
          s -> true,
          "a file path, or empty",
          "The dispatcher's Ed25519 private key (PKCS#8 PEM, as `openssl genpkey -algorithm ed25519` or `evalfleet keys generate` writes it): every flag it publishes is signed with it, in the record headers `evalfleet.signature` and `evalfleet.signing-key`, and archived signed beside the version's lockfile. Keep it from everyone but the dispatcher. Empty: flags are unsigned (the dispatcher warns at start).");
  public static final Setting<String> FLAG_PUBLIC_KEYS =
      new Setting<>(
          "flags.public-keys",
          "",
          String::trim,
          s -> true,
          "comma-separated file paths or directories, or empty",
          "The Ed25519 public keys flags are trusted from (SubjectPublicKeyInfo PEM, as `openssl pkey -pubout` writes them; a directory stands for its `*.pem`); several keys allow a rotation. When set, `evalfleet watch`, `submit --wait`, `baseline promote` and the notifier accept only flags signed by one of them. Empty: flags are not verified.");

  public static final List<Setting<?>> SETTINGS =
      List.of(
          BOOTSTRAP_SERVERS,
          SHARD_ROWS,
          MAX_IN_FLIGHT_PER_RUN,
          MAX_IN_FLIGHT,
          RUN_DEADLINE,
          JOB_TIMEOUT,
          DECIDED_LOOK_BACK,
          JOB_TOKENS,
          DISPATCHER_STATE_DIR,
          STANDBY_REPLICAS,
          STREAM_THREADS,
          DISPATCHER_SESSION_TIMEOUT,
          POLICY,
          ARCHIVE_ROOT,
          REUSE_SCORES,
          WORKER_CONCURRENCY,
          INTRA_OP_THREADS,
          BATCH_SIZE,
          LOGITS_BUDGET,
          MAX_SEQ_LEN,
          EXECUTION_PROVIDER,
          DETERMINISTIC_COMPUTE,
          DRAIN_TIMEOUT,
          CACHE_MAX_BYTES,
          CONCURRENT_MODEL_LOADS,
          MAX_LOADED_MODELS,
          ALLOWED_ROOTS,
          STORAGE_ATTEMPTS,
          STORAGE_BREAKER_OPEN,
          METRICS_PORT,
          WORKER_ID,
          MAX_DELIVERIES,
          WEBHOOK_URL,
          WEBHOOK_SECRET_FILE,
          GITHUB_API,
          GITHUB_TOKEN_FILE,
          GITLAB_API,
          GITLAB_TOKEN_FILE,
          REPORT_BASE_URL,
          DELIVERY_ATTEMPTS,
          DELIVERY_BACKOFF,
          DELIVERY_MAX_WAIT,
          NOTIFIER_CONCURRENCY,
          FLAG_SIGNING_KEY,
          FLAG_PUBLIC_KEYS);

  private final Map<String, Object> values;
  private final Map<String, String> kafka;
  private final Map<String, String> hadoop;

  /** The values of settings that held references, as written: what may be printed. */
  private final Map<String, String> written;

  private FleetConfig(
      Map<String, Object> values,
      Map<String, String> kafka,
      Map<String, String> hadoop,
      Map<String, String> written) {
    this.values = values;
    this.kafka = kafka;
    this.hadoop = hadoop;
    this.written = written;
  }

  public static FleetConfig defaults() {
    return of(Map.of());
  }

  /**
   * Parses {@code raw} over the defaults, resolving references ({@code ${env:NAME}}, {@code
   * ${file:PATH:KEY}}, {@code ${dir:DIR:FILE}}) against this process's environment and files;
   * throws listing every bad or unknown key and every reference that resolves to nothing.
   */
  public static FleetConfig of(Map<String, String> raw) {
    return of(raw, System.getenv());
  }

  /** {@link #of(Map)} with {@code ${env:...}} references looked up in {@code env}. */
  static FleetConfig of(Map<String, String> raw, Map<String, String> env) {
    List<String> problems = new ArrayList<>();
    Map<String, String> resolved = new LinkedHashMap<>(raw);
    Map<String, String> written = new LinkedHashMap<>();
    try (SettingReferences references = new SettingReferences(env)) {
      for (var entry : raw.entrySet()) {
        String key = entry.getKey();
        if (!SettingReferences.hasReference(entry.getValue())) {
          continue;
        }
        written.put(key, entry.getValue());
        boolean secret = isPassedOn(key) && isSecret(key);
        String value =
            references.resolve(
                key,
                entry.getValue(),
                problems,
                (reference, found) -> {
                  if (secret) {
                    SecretValues.register(found);
                  }
                });
        if (value == null) {
          resolved.remove(key); // reported: no second problem from parsing what is not there
        } else {
          resolved.put(key, value);
        }
      }
    }
    resolved.forEach(
        (key, value) -> {
          if (isPassedOn(key) && isSecret(key)) {
            secretPartsOf(key, value).forEach(SecretValues::register);
          }
        });
    Map<String, Object> values = new LinkedHashMap<>();
    for (Setting<?> setting : SETTINGS) {
      String text = resolved.getOrDefault(setting.key(), setting.defaultValue()).trim();
      values.put(setting.key(), parse(setting, text, problems));
    }
    Map<String, String> kafka = new LinkedHashMap<>();
    Map<String, String> hadoop = new LinkedHashMap<>();
    for (var entry : resolved.entrySet()) {
      String key = entry.getKey();
      if (key.startsWith("kafka.config.providers")) {
        problems.add(
            "'"
                + key
                + "': the fleet resolves ${env:...}, ${file:...} and ${dir:...} references"
                + " itself and hands Kafka's clients the resolved values; see Secrets in"
                + " docs/configuration.md");
      } else if (key.startsWith("kafka.")) {
        kafka.put(key.substring("kafka.".length()), entry.getValue());
      } else if (key.startsWith("hadoop.")) {
        hadoop.put(key.substring("hadoop.".length()), entry.getValue());
      } else if (SETTINGS.stream().noneMatch(s -> s.key().equals(key))) {
        problems.add("unknown setting '" + key + "'");
      }
    }
    kafka.put("bootstrap.servers", (String) values.get(BOOTSTRAP_SERVERS.key()));
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(
          "invalid configuration:\n  - " + String.join("\n  - ", problems));
    }
    return new FleetConfig(
        Map.copyOf(values), Map.copyOf(kafka), Map.copyOf(hadoop), Map.copyOf(written));
  }

  /** Layers, lowest precedence first: a properties file's entries, the environment, overrides. */
  public static FleetConfig load(
      Properties file, Map<String, String> env, Map<String, String> overrides) {
    Map<String, String> raw = new LinkedHashMap<>();
    file.stringPropertyNames().forEach(k -> raw.put(k, file.getProperty(k)));
    for (Setting<?> setting : SETTINGS) {
      String fromEnv = env.get(setting.envName());
      if (fromEnv != null) {
        raw.put(setting.key(), fromEnv);
      }
    }
    raw.putAll(overrides);
    return of(raw, env);
  }

  /** A copy with some keys changed. */
  public FleetConfig with(Map<String, String> overrides) {
    Map<String, String> raw = settings();
    raw.putAll(overrides);
    return of(raw);
  }

  /**
   * Every effective setting as text, {@code kafka.*} and {@code hadoop.*} keys included, references
   * resolved: {@link #of} of this map gives an equal configuration, e.g. in a process that a role
   * starts to do part of its work, even where that process lacks the environment or the files the
   * references read. It holds whatever secrets the {@code kafka.*} and {@code hadoop.*} keys hold:
   * pass it on privately (a pipe), never as arguments.
   */
  public Map<String, String> settings() {
    Map<String, String> raw = new LinkedHashMap<>();
    values.forEach((k, v) -> raw.put(k, String.valueOf(v)));
    kafka.forEach((k, v) -> raw.put("kafka." + k, v));
    hadoop.forEach((k, v) -> raw.put("hadoop." + k, v));
    return raw;
  }

  /** What {@link #printableSettings} shows instead of a secret. */
  public static final String REDACTED = "<redacted>";

  /**
   * {@link #settings()} as may be printed or logged: a setting that held references shows them as
   * written ({@code ${dir:/etc/evalfleet/kafka:password}} names where a secret is, not the secret),
   * and the value of every {@code kafka.*} and {@code hadoop.*} key that may hold a secret ({@link
   * #isSecret}) and holds a literal one ({@link #holdsLiteralSecret}) is {@link #REDACTED}. The
   * fleet's own settings hold no secrets: they name the files that do.
   */
  public Map<String, String> printableSettings() {
    Map<String, String> shown = new LinkedHashMap<>();
    settings()
        .forEach(
            (key, value) -> {
              String asWritten = written.getOrDefault(key, value);
              shown.put(key, holdsLiteralSecret(key, asWritten) ? REDACTED : asWritten);
            });
    return shown;
  }

  /** Keys handed on to Kafka's clients or to Hadoop, where secrets live. */
  private static boolean isPassedOn(String key) {
    return key.startsWith("kafka.") || key.startsWith("hadoop.");
  }

  /** A quoted option of a JAAS configuration: {@code name="value"}. */
  private static final Pattern JAAS_OPTION = Pattern.compile("([\\w.-]+)\\s*=\\s*\"([^\"]*)\"");

  /**
   * Whether {@code value} of setting {@code key} holds a secret in clear: the key is a {@code
   * kafka.*} or {@code hadoop.*} one that may hold a secret ({@link #isSecret}) and its value is
   * more than references (and blanks); in a JAAS configuration, a secret-looking option ({@code
   * password="..."}) is more than references. Such a value must not be printed, nor given on a
   * command line, which {@code ps} shows to every user of the machine.
   */
  public static boolean holdsLiteralSecret(String key, String value) {
    if (!isPassedOn(key) || !isSecret(key)) {
      return false;
    }
    if (!key.toLowerCase(Locale.ROOT).contains("jaas")) {
      return !SettingReferences.isOnlyReferences(value);
    }
    if (!SettingReferences.hasReference(value)) {
      return !value.isBlank();
    }
    Matcher option = JAAS_OPTION.matcher(value);
    while (option.find()) {
      if (isSecret(option.group(1)) && !SettingReferences.isOnlyReferences(option.group(2))) {
        return true;
      }
    }
    return false;
  }

  /** The secrets a value holds: a JAAS configuration's secret options, or the whole value. */
  private static List<String> secretPartsOf(String key, String value) {
    if (!key.toLowerCase(Locale.ROOT).contains("jaas")) {
      return List.of(value);
    }
    List<String> parts = new ArrayList<>(List.of(value));
    Matcher option = JAAS_OPTION.matcher(value);
    while (option.find()) {
      if (isSecret(option.group(1))) {
        parts.add(option.group(2));
      }
    }
    return parts;
  }

  /**
   * Whether a setting's value may be a secret, by its name: a part of it (between dots, dashes or
   * underscores) names a secret, password, token, credential or JAAS configuration, or a key that
   * is not a record's key: {@code hadoop.fs.s3a.access.key}, {@code hadoop.fs.s3a.secret.key},
   * {@code hadoop.fs.azure.account.key.<account>}, {@code kafka.sasl.jaas.config}, {@code
   * kafka.ssl.key.password} are; {@code kafka.key.serializer} is not.
   */
  public static boolean isSecret(String key) {
    String[] parts = key.toLowerCase(Locale.ROOT).split("[._-]");
    for (int i = 0; i < parts.length; i++) {
      String part = parts[i];
      if (part.contains("secret")
          || part.contains("password")
          || part.contains("passwd")
          || part.contains("token")
          || part.contains("credential")
          || part.contains("jaas")
          || (part.endsWith("key") && !isRecordKey(parts, i))) {
        return true;
      }
    }
    return false;
  }

  /** Kafka's {@code key.serializer} and {@code key.deserializer}: the record key's, no secret. */
  private static boolean isRecordKey(String[] parts, int i) {
    return parts[i].equals("key") && i + 1 < parts.length && parts[i + 1].endsWith("serializer");
  }

  /** Hadoop FileSystem properties: every {@code hadoop.*} key, without the prefix. */
  public Map<String, String> hadoopProperties() {
    return hadoop;
  }

  @SuppressWarnings("unchecked")
  public <T> T get(Setting<T> setting) {
    return (T) values.get(setting.key());
  }

  /** Properties for a Kafka client: bootstrap servers plus every {@code kafka.*} key. */
  public Map<String, Object> kafkaClientProperties() {
    return new LinkedHashMap<>(kafka);
  }

  /** The settings as a Markdown table, for the documentation. */
  public static String markdownReference() {
    StringBuilder out =
        new StringBuilder("| key | default | environment | meaning |\n|---|---|---|---|\n");
    for (Setting<?> s : SETTINGS) {
      String def =
          s == WORKER_ID
              ? "`<host>-<pid>`"
              : s == ARCHIVE_ROOT
                  ? "`~/.evalfleet/archive`"
                  : s == DISPATCHER_STATE_DIR
                      ? "`~/.evalfleet/dispatcher-state`"
                      : s.defaultValue().isEmpty() ? "(empty)" : "`" + s.defaultValue() + "`";
      out.append("| `")
          .append(s.key())
          .append("` | ")
          .append(def)
          .append(" | `")
          .append(s.envName())
          .append("` | ")
          .append(s.doc())
          .append(" |\n");
    }
    return out.toString();
  }

  private static Object parse(Setting<?> setting, String text, List<String> problems) {
    try {
      Object value = setting.parser().apply(text);
      @SuppressWarnings("unchecked")
      boolean ok = ((Predicate<Object>) setting.valid()).test(value);
      if (ok) {
        return value;
      }
    } catch (RuntimeException e) {
      // reported below with the rule
    }
    problems.add(setting.key() + " must be " + setting.rule() + ", got '" + text + "'");
    return setting.parser().apply(setting.defaultValue());
  }

  private static String defaultWorkerId() {
    String id = hostName().replaceAll("[^A-Za-z0-9._-]", "-") + "-" + ProcessHandle.current().pid();
    return id.length() <= 249 ? id : id.substring(id.length() - 249);
  }

  private static String hostName() {
    String host = System.getenv("HOSTNAME");
    if (host == null || host.isBlank()) {
      try {
        host = InetAddress.getLocalHost().getHostName();
      } catch (IOException e) {
        host = "localhost";
      }
    }
    return host;
  }
}
