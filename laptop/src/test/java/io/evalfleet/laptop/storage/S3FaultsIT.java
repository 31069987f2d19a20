package io.evalfleet.laptop.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import io.evalfleet.cli.FlagWatcher;
import io.evalfleet.cli.Submitter;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.failure.FailureKind;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.task.Task;
import io.evalfleet.dispatcher.run.RunState;
import io.evalfleet.laptop.demo.DemoAssets;
import io.evalfleet.laptop.embedded.LocalFleet;
import io.evalfleet.laptop.embedded.LocalS3;
import java.io.File;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A fleet whose model, tokenizer and golden subset live on a real S3 endpoint (S3Proxy, {@link
 * LocalS3}), read through S3A with the fleet's settings. The endpoint stops in the middle of a run:
 * shards that meet it are retried, and the run ends as it would have if the endpoint comes back
 * before the deadline, INCOMPLETE naming the store if it does not. A missing bucket, a missing key
 * and refused credentials end in ERROR naming the object. The secret the fleet holds appears in no
 * log line and no message it writes. {@code evalfleet inspect} reads an s3a:// model with keys from
 * the settings or from a profile file, and says so when it has no credentials at all.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class S3FaultsIT {
  static final Duration RUN_DEADLINE = Duration.ofSeconds(40);

  /** A bucket the fleet holds a wrong secret for (S3A's per-bucket settings). */
  static final String LOCKED = "locked";

  static final String WRONG_SECRET = "wrong-secret-" + UUID.randomUUID();

  @TempDir static Path dir;
  static LocalS3 s3;
  static LocalFleet fleet;
  static FlagWatcher flags;
  static Submitter submitter;
  static KafkaConsumer<String, byte[]> results;
  static ArtifactRef onnx;
  static ArtifactRef tokenizer;
  static SubsetRef subset;

  /** A tiny embedding model and its byte-level tokenizer on the endpoint, for inspect. */
  static String tinyModel;

  static String tinyTokenizer;
  static ListAppender<ILoggingEvent> logLines;
  static final Map<String, Level> levelsBefore = new HashMap<>();

  @BeforeAll
  static void startEndpointAndFleet() throws Exception {
    captureLogLines();
    s3 = LocalS3.start(dir.resolve("s3"));
    DemoAssets assets = new DemoAssets(dir.resolve("assets"));
    DemoAssets.ModelFiles local = assets.model(DemoAssets.Model.MINILM_FP32);
    onnx =
        new ArtifactRef(upload(local.onnx(), "models", "minilm/model.onnx"), local.onnx().sha256());
    tokenizer =
        new ArtifactRef(
            upload(local.tokenizer(), "models", "minilm/tokenizer.json"),
            local.tokenizer().sha256());
    upload(local.onnx(), LOCKED, "minilm/model.onnx");
    Path fixtures = Path.of("..", "fixtures").toAbsolutePath().normalize();
    tinyModel =
        s3.upload(
            fixtures.resolve("embedding/bytes-no-token-types.onnx"), "tools", "tiny/model.onnx");
    tinyTokenizer =
        s3.upload(fixtures.resolve("causal-lm/tokenizer.json"), "tools", "tiny/tokenizer.json");
    SubsetRef pairs = assets.goldenSubset();
    subset =
        new SubsetRef(
            s3.upload(Path.of(URI.create(pairs.uri())), "subsets", "sts-pairs-v1.parquet"),
            pairs.sha256(),
            null,
            Map.of());

    Map<String, String> settings = new HashMap<>(s3.fleetSettings());
    settings.put("hadoop.fs.s3a.bucket." + LOCKED + ".secret.key", WRONG_SECRET);
    settings.putAll(
        Map.of(
            FleetConfig.INTRA_OP_THREADS.key(), "1",
            FleetConfig.SHARD_ROWS.key(), "8",
            FleetConfig.MAX_IN_FLIGHT_PER_RUN.key(), "1",
            FleetConfig.RUN_DEADLINE.key(), RUN_DEADLINE.toString(),
            FleetConfig.STORAGE_BREAKER_OPEN.key(), "PT2S",
            FleetConfig.REUSE_SCORES.key(), "false",
            FleetConfig.ARCHIVE_ROOT.key(), dir.resolve("archive").toUri().toString()));
    fleet = LocalFleet.start(FleetConfig.defaults().with(settings), 1, dir.resolve("cache"));
    flags = new FlagWatcher(fleet.config(), true);
    submitter = new Submitter(fleet.config());
    results = KafkaClients.reader(fleet.config(), "s3-faults-results");
    List<TopicPartition> partitions = partitionsOf(results, Topics.RESULTS);
    results.assign(partitions);
    results.seekToBeginning(partitions);

    StagedWeightEvent first = event("v1", onnx);
    submitter.submit(first);
    assertThat(flags.await(first.eventId(), Duration.ofMinutes(2)).flag())
        .as("the first version, scored normally from the endpoint")
        .isEqualTo(Flag.WARN);
  }

  @AfterEach
  void endpointBackUp() throws Exception {
    s3.start();
  }

  @AfterAll
  static void stopAll() throws Exception {
    try {
      results.close();
      submitter.close();
      flags.close();
      fleet.close();
    } finally {
      s3.close();
      releaseLogLines();
    }
  }

  @Test
  @Order(1)
  void aMissingBucketEndsInErrorNamingBucketAndKey() throws Exception {
    String uri = "s3a://no-such-bucket/minilm/model.onnx";
    DriftFlag flag = submitAndAwait(event("missing-bucket", new ArtifactRef(uri, onnx.sha256())));
    assertThat(flag.flag()).as("%s", flag.reasons()).isEqualTo(Flag.ERROR);
    assertThat(flag.reasons())
        .anyMatch(r -> r.contains(uri) && r.contains("bucket") && r.contains("does not exist"));
  }

  @Test
  @Order(2)
  void aMissingKeyEndsInErrorNamingIt() throws Exception {
    String uri = "s3a://models/minilm/no-such-model.onnx";
    DriftFlag flag = submitAndAwait(event("missing-key", new ArtifactRef(uri, onnx.sha256())));
    assertThat(flag.flag()).as("%s", flag.reasons()).isEqualTo(Flag.ERROR);
    assertThat(flag.reasons()).anyMatch(r -> r.contains("no such file: " + uri));
  }

  @Test
  @Order(3)
  void refusedCredentialsEndInErrorSayingAccessWasDenied() throws Exception {
    String uri = "s3a://" + LOCKED + "/minilm/model.onnx";
    DriftFlag flag = submitAndAwait(event("wrong-secret", new ArtifactRef(uri, onnx.sha256())));
    assertThat(flag.flag()).as("%s", flag.reasons()).isEqualTo(Flag.ERROR);
    assertThat(flag.reasons()).anyMatch(r -> r.contains("access denied to " + uri));
  }

  @Test
  @Order(4)
  void aShortOutageMidRunIsRetriedAndTheRunEndsAsItWouldHave() throws Exception {
    StagedWeightEvent event = event("v2", onnx);
    List<ShardResult> seen = stageAndStopTheEndpointMidRun(event);
    awaitResults(
        seen,
        RunState.runIdOf(event.eventId()),
        r -> r.failed() && r.error().kind() == FailureKind.UNAVAILABLE,
        "a shard that met the stopped endpoint");
    Thread.sleep(3_000); // the outage: the endpoint stays down while shards keep meeting it
    s3.start();

    DriftFlag flag = flags.await(event.eventId(), RUN_DEADLINE.plusSeconds(30));
    assertThat(flag.flag())
        .as("the same model and rows as the baseline: %s", flag.reasons())
        .isEqualTo(Flag.GREEN);
    assertThat(flag.coverage().rowsScored()).isEqualTo(flag.coverage().rowsTotal());
    assertThat(seen)
        .filteredOn(ShardResult::failed)
        .extracting(r -> r.error().message())
        .allMatch(m -> m.contains("storage unavailable"), "names the store");
  }

  @Test
  @Order(5)
  void anOutagePastTheDeadlineEndsIncompleteNamingTheStoreNeverError() throws Exception {
    StagedWeightEvent event = event("v3", onnx);
    stageAndStopTheEndpointMidRun(event);
    StagedWeightEvent stagedDuringOutage = event("v4", onnx);
    submitter.submit(stagedDuringOutage);

    DriftFlag flag = flags.await(event.eventId(), RUN_DEADLINE.plusSeconds(30));
    assertThat(flag.flag()).as("%s", flag.reasons()).isEqualTo(Flag.INCOMPLETE);
    assertThat(flag.reasons())
        .anyMatch(r -> r.contains("deadline") && r.contains("storage unavailable"));
    assertThat(flag.coverage().rowsScored()).isPositive().isLessThan(flag.coverage().rowsTotal());

    DriftFlag notPreflighted =
        flags.await(stagedDuringOutage.eventId(), RUN_DEADLINE.plusSeconds(30));
    assertThat(notPreflighted.flag()).as("%s", notPreflighted.reasons()).isEqualTo(Flag.INCOMPLETE);
    assertThat(notPreflighted.reasons()).anyMatch(r -> r.contains("storage unavailable"));
    flags.poll(Duration.ofSeconds(1));
    assertThat(flags.count(event.eventId())).isEqualTo(1);
    assertThat(flags.count(stagedDuringOutage.eventId())).isEqualTo(1);
  }

  @Test
  @Order(6)
  void inspectReadsAnS3ModelWithKeysReferencedFromAFileOrAProfileAndNamesMissingCredentials()
      throws Exception {
    List<String> endpoint = new ArrayList<>();
    s3.fleetSettings()
        .forEach(
            (k, v) -> {
              if (!k.endsWith(".access.key") && !k.endsWith(".secret.key")) {
                endpoint.addAll(List.of("-D", k + "=" + v));
              }
            });

    // keys never on the command line: a file holds them, the options reference it
    Path keys = dir.resolve("s3-keys.properties");
    Files.writeString(keys, "access=" + LocalS3.ACCESS_KEY + "\nsecret=" + s3.secretKey() + "\n");
    List<String> withKeys = new ArrayList<>(endpoint);
    withKeys.addAll(List.of("-D", "hadoop.fs.s3a.access.key=${file:" + keys + ":access}"));
    withKeys.addAll(List.of("-D", "hadoop.fs.s3a.secret.key=${file:" + keys + ":secret}"));
    Inspected fromSettings = inspect("keys", withKeys, Map.of());
    assertThat(fromSettings.exit()).as(fromSettings.output()).isZero();
    assertThat(fromSettings.output()).contains("model: " + tinyModel, "the fleet can score it");

    List<String> inClear = new ArrayList<>(endpoint);
    inClear.addAll(List.of("-D", "hadoop.fs.s3a.secret.key=" + s3.secretKey()));
    Inspected refused = inspect("in-clear", inClear, Map.of());
    assertThat(refused.exit()).as(refused.output()).isEqualTo(2);
    assertThat(refused.output())
        .contains("a secret on the command line", "-D hadoop.fs.s3a.secret.key")
        .doesNotContain(s3.secretKey());

    Path profile = dir.resolve("aws-credentials");
    Files.writeString(
        profile,
        "[default]\naws_access_key_id = "
            + LocalS3.ACCESS_KEY
            + "\naws_secret_access_key = "
            + s3.secretKey()
            + "\n");
    Inspected fromProfile =
        inspect("profile", endpoint, Map.of("AWS_SHARED_CREDENTIALS_FILE", profile.toString()));
    assertThat(fromProfile.exit()).as(fromProfile.output()).isZero();
    assertThat(fromProfile.output()).contains("model: " + tinyModel, "the fleet can score it");

    Inspected none = inspect("none", endpoint, Map.of());
    assertThat(none.exit()).as(none.output()).isEqualTo(2);
    assertThat(none.output())
        .contains("access denied to " + tinyModel)
        .containsIgnoringCase("no AWS credentials");
  }

  @Test
  @Order(7)
  void theSecretIsInNoLogLineAndNoMessage() throws Exception {
    List<String> lines = loggedLines();
    assertThat(lines).as("log lines captured").hasSizeGreaterThan(20);
    for (String secret : List.of(s3.secretKey(), WRONG_SECRET)) {
      assertThat(lines).noneMatch(l -> l.contains(secret));
    }

    try (KafkaConsumer<String, byte[]> reader =
        KafkaClients.reader(fleet.config(), "s3-faults-secrets")) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (String topic :
          List.of(Topics.STAGED, Topics.JOBS, Topics.RESULTS, Topics.DRIFT_FLAGS, Topics.DLQ)) {
        partitions.addAll(partitionsOf(reader, topic));
      }
      reader.assign(partitions);
      reader.seekToBeginning(partitions);
      Map<TopicPartition, Long> ends = reader.endOffsets(partitions);
      List<String> messages = new ArrayList<>();
      await("every message read")
          .atMost(Duration.ofSeconds(30))
          .pollInSameThread()
          .until(
              () -> {
                for (ConsumerRecord<String, byte[]> record : reader.poll(Duration.ofMillis(200))) {
                  messages.add(
                      record.topic() + ": " + new String(record.value(), StandardCharsets.UTF_8));
                }
                return partitions.stream().allMatch(p -> reader.position(p) >= ends.get(p));
              });
      assertThat(messages)
          .anyMatch(m -> m.startsWith(Topics.DRIFT_FLAGS) && m.contains("access denied"));
      for (String secret : List.of(s3.secretKey(), WRONG_SECRET)) {
        assertThat(messages).noneMatch(m -> m.contains(secret));
      }
    }
  }

  record Inspected(int exit, String output) {}

  /**
   * Runs {@code evalfleet inspect} on the tiny model and its tokenizer in its own JVM, as a user
   * would, with no AWS setting but {@code env} and the instance metadata service off: the
   * credentials come from the arguments or {@code env} only. Its output, full log included.
   */
  private static Inspected inspect(String name, List<String> settings, Map<String, String> env)
      throws Exception {
    Path cli = Path.of("..", "cli", "target").toAbsolutePath().normalize();
    Path work = Files.createDirectories(dir.resolve("inspect-" + name));
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m",
                "-cp",
                cli.resolve("evalfleet.jar") + File.pathSeparator + cli.resolve("lib") + "/*",
                "io.evalfleet.cli.Evalfleet",
                "inspect",
                tinyModel,
                "--tokenizer",
                tinyTokenizer));
    command.addAll(settings);
    Path out = work.resolve("output.txt");
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(work.toFile())
            .redirectErrorStream(true)
            .redirectOutput(out.toFile());
    builder
        .environment()
        .keySet()
        .removeIf(k -> k.startsWith("AWS_") || k.equals("HADOOP_CONF_DIR"));
    builder.environment().put("AWS_EC2_METADATA_DISABLED", "true");
    builder.environment().put("AWS_CONFIG_FILE", work.resolve("no-config").toString());
    builder
        .environment()
        .put("AWS_SHARED_CREDENTIALS_FILE", work.resolve("no-credentials").toString());
    builder.environment().putAll(env);
    Process process = builder.start();
    if (!process.waitFor(2, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      throw new IllegalStateException(
          "inspect " + name + " did not finish: " + Files.readString(out));
    }
    StringBuilder output = new StringBuilder(Files.readString(out));
    Path log = work.resolve(".evalfleet").resolve("logs").resolve("inspect.log");
    if (Files.exists(log)) {
      output.append(Files.readString(log));
    }
    String text = output.toString();
    assertThat(text).as("inspect's output and log").doesNotContain(s3.secretKey());
    return new Inspected(process.exitValue(), text);
  }

  private static String upload(ArtifactRef local, String bucket, String key) throws Exception {
    return s3.upload(Path.of(URI.create(local.uri())), bucket, key);
  }

  private static DriftFlag submitAndAwait(StagedWeightEvent event) throws Exception {
    submitter.submit(event);
    return flags.await(event.eventId(), Duration.ofSeconds(60));
  }

  private static List<ShardResult> stageAndStopTheEndpointMidRun(StagedWeightEvent event)
      throws Exception {
    submitter.submit(event);
    List<ShardResult> seen = new ArrayList<>();
    awaitResults(seen, RunState.runIdOf(event.eventId()), r -> !r.failed(), "a first shard scored");
    s3.stop();
    return seen;
  }

  private static void awaitResults(
      List<ShardResult> seen, String runId, Predicate<ShardResult> wanted, String what) {
    await(what)
        .atMost(RUN_DEADLINE)
        .pollInSameThread()
        .pollInterval(Duration.ZERO)
        .until(
            () -> {
              results
                  .poll(Duration.ofMillis(20))
                  .forEach(
                      record -> {
                        ShardResult result = Json.read(record.value(), ShardResult.class);
                        if (result.runId().equals(runId)) {
                          seen.add(result);
                        }
                      });
              return seen.stream().anyMatch(wanted);
            });
  }

  private static List<TopicPartition> partitionsOf(
      KafkaConsumer<String, byte[]> consumer, String topic) {
    return consumer.partitionsFor(topic, Duration.ofSeconds(10)).stream()
        .map(p -> new TopicPartition(topic, p.partition()))
        .toList();
  }

  private static StagedWeightEvent event(String version, ArtifactRef artifact) {
    return StagedWeightEvent.builder()
        .eventId("s3-" + version + "-" + UUID.randomUUID())
        .model("s3-minilm")
        .version(version)
        .task(Task.EMBEDDING)
        .artifact(artifact)
        .tokenizer(tokenizer)
        .goldenSubset(subset)
        .quantizationBits(32)
        .maxSeqLen(256)
        .hardwareProfile("cpu")
        .createdAt(Instant.now())
        .build();
  }

  /**
   * Every line the fleet logs in this JVM from here on is kept, evalfleet's own and S3A's at debug
   * level: a secret in any of them fails {@link #theSecretIsInNoLogLineAndNoMessage}.
   */
  private static void captureLogLines() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    logLines = new ListAppender<>();
    logLines.setContext(context);
    logLines.start();
    context.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(logLines);
    for (String name : List.of("io.evalfleet", "org.apache.hadoop.fs.s3a")) {
      Logger logger = context.getLogger(name);
      levelsBefore.put(name, logger.getLevel());
      logger.setLevel(Level.DEBUG);
    }
  }

  private static void releaseLogLines() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    context.getLogger(Logger.ROOT_LOGGER_NAME).detachAppender(logLines);
    levelsBefore.forEach((name, level) -> context.getLogger(name).setLevel(level));
  }

  /** Each captured event as its logger, message and every exception's class and message. */
  private static List<String> loggedLines() {
    List<String> lines = new ArrayList<>();
    for (ILoggingEvent event : List.copyOf(logLines.list)) {
      StringBuilder line =
          new StringBuilder(event.getLoggerName()).append(' ').append(event.getFormattedMessage());
      for (IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
        line.append(" | ").append(t.getClassName()).append(": ").append(t.getMessage());
        for (IThrowableProxy suppressed : t.getSuppressed()) {
          line.append(" | ")
              .append(suppressed.getClassName())
              .append(": ")
              .append(suppressed.getMessage());
        }
      }
      lines.add(line.toString());
    }
    return lines;
  }
}
