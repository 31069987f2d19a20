package io.evalfleet.laptop.faults;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.cli.FlagWatcher;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.task.Task;
import io.evalfleet.laptop.demo.DemoAssets;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every command line the docs print (the {@code bash} blocks of README.md and docs/*.md) runs as
 * written against a real broker, or is named below with the reason it is not run here. The one
 * substitution is the broker: {@code kafka:9092} becomes the test broker's address, and {@code $B}
 * is set to it (the docs get it from {@code ./evalfleet local}). The files the docs tell the user
 * to have ({@code model.onnx}, {@code tokenizer.json}, {@code pairs.parquet}, {@code bge.onnx}, the
 * {@code bge-small-en-v1.5/} folder, {@code event.json}) are the demo's models and golden pairs, in
 * the directory the commands run in, which holds the checkout's {@code evalfleet} script and {@code
 * docs} as links. The roles run as the docs print them, with default settings, on one machine: each
 * process gets the same fresh home directory ({@code HOME} and Java's {@code user.home}: the
 * default archive, state and cache directories, shared as on one host, never the real home's),
 * {@code EVALFLEET_METRICS_PORT=0} (the docs' way to give roles sharing a machine their own metrics
 * port; other builds may hold 9400 here), Debian's {@code /usr/bin} first on {@code PATH} (its
 * python3 has confluent-kafka) and no desktop (so that {@code report --open} opens no window).
 */
class DocumentedCommandsIT {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final Pattern SUBMITTED = Pattern.compile("submitted event (\\S+) for");
  private static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(3);

  /** What the directory the commands run in links from the checkout. */
  private static final List<String> LINKED = List.of("evalfleet", "laptop", "docs");

  /** Documented commands not run here: each a prefix, and why. */
  static final Map<String, String> NOT_RUN = new LinkedHashMap<>();

  static {
    NOT_RUN.put(
        "./evalfleet demo",
        "the whole demo takes minutes; FleetIT and RetrievalIT run its fleet and models");
    NOT_RUN.put("mvn -B ", "the build, of which this test is part");
    NOT_RUN.put(
        "kafka-configs.sh ",
        "Kafka's own tool, not installed with the project, on a secured cluster; SecuredKafka"
            + " creates its SCRAM users through the same admin API");
    NOT_RUN.put(
        "./evalfleet topics --config /etc/evalfleet/admin.properties --acls",
        "needs a secured cluster and its administrator's settings; SecuredAccessIT runs this"
            + " command as the administrator of one, then proves each role's denials");
    NOT_RUN.put(
        "./evalfleet local",
        "an embedded broker and fleet in one process: the commands after it run here"
            + " against a broker and role processes instead, with $B set to that broker");
    NOT_RUN.put(
        "./evalfleet bench ",
        "benchmarks of minutes each; their figures are in docs/benchmarks.md");
    NOT_RUN.put(
        "./evalfleet noise-floor .evalfleet/demo/",
        "the demo's files, which only the demo writes; the same command runs here on the"
            + " checkout's model.onnx and pairs.parquet");
    NOT_RUN.put(
        "mkdir -p /tmp/s3/",
        "the folder of a hand-run S3 endpoint; LocalS3 (LocalS3Test, S3FaultsIT) starts the"
            + " same S3Proxy jar on a folder of its own");
    NOT_RUN.put(
        "java -jar laptop/target/s3proxy/s3proxy.jar",
        "a hand-run S3 endpoint that runs until stopped; LocalS3 starts the same jar the same way");
    NOT_RUN.put(
        "AWS_ACCESS_KEY_ID=local-key",
        "the AWS CLI, not installed with the project; the storage tests upload through S3A");
    NOT_RUN.put(
        "./evalfleet inspect s3a://",
        "needs an S3 endpoint holding that bucket; S3FaultsIT runs inspect on an s3a:// model"
            + " through a real endpoint, with keys referenced from a file and from a profile file");
    String signed =
        "signed flags (docs/promotion.md) need a dispatcher with a signing key, which the fleet"
            + " run here has not; ";
    NOT_RUN.put(
        "openssl ",
        signed + "FlagSigningTest makes keys with these openssl commands and signs with them");
    NOT_RUN.put(
        "./evalfleet keys generate", signed + "SignedFlagsIT runs it through the command line");
    NOT_RUN.put(
        "./evalfleet dispatcher -b kafka:9092 -D flags.signing-key",
        signed + "SignedFlagsIT runs the fleet with flags.signing-key");
    NOT_RUN.put(
        "./evalfleet watch -b $B -D flags.public-keys",
        signed + "SignedFlagsIT runs watch with flags.public-keys through the command line");
    NOT_RUN.put(
        "./evalfleet baseline promote -b $B --model m --version v2 -D flags.public-keys",
        signed + "SignedFlagsIT runs baseline promote with flags.public-keys");
    NOT_RUN.put(
        "kcat -b $B -C -t evalfleet.drift-flags -f",
        signed + "SignedFlagsIT reads the same headers with a plain consumer");
    String secured =
        "needs a secured cluster (SASL_SSL) and its promotion-reader user, which the broker here"
            + " has not; SecuredAccessIT proves that role reads evalfleet.drift-flags and nothing"
            + " else, ";
    NOT_RUN.put(
        "install -m 600 /dev/null promotion.conf",
        secured + "and the file it starts is written by hand with that user's password");
    NOT_RUN.put(
        "python3 docs/examples/verify_flag.py --public-keys flags.pub.pem --bootstrap-servers $B -F",
        secured + "and SignedFlagsIT runs this script, without -F, against a plaintext broker");
    NOT_RUN.put(
        "kcat -F promotion.conf",
        secured + "and SignedFlagsIT reads the same headers with a plain consumer");
    NOT_RUN.put(
        "python3 docs/examples/verify_flag.py",
        signed + "SignedFlagsIT runs this script against its fleet's flags topic");
    NOT_RUN.put(
        "java docs/examples/VerifyFlag.java",
        signed + "VerifyFlagScriptTest runs it on a genuine and an altered archived flag");
    NOT_RUN.put(
        "./evalfleet subset ",
        "reads the user's traffic logs from s3a:// buckets; SubsetBuilderTest"
            + " builds subsets from local files");
  }

  /**
   * A command line as a bash block prints it: its text (continuation lines kept) and its words on
   * one line.
   */
  record DocCommand(String file, String text, String line) {}

  @TempDir Path dir;

  private Path work;
  private Path logs;
  private Map<String, String> environment;
  private final Set<DocCommand> ran = new LinkedHashSet<>();
  private List<DocCommand> documented;
  private BrokerProcess broker;
  private final List<FleetProcess> processes = new ArrayList<>();
  private int commands;

  @Test
  void everyDocumentedCommandRunsAsWritten() throws Exception {
    Assumptions.assumeTrue(
        Files.isExecutable(Path.of("/usr/bin/kcat")) && Files.isExecutable(Path.of("/usr/bin/jq")),
        "kcat and jq (Debian packages) are not installed");
    Assumptions.assumeTrue(
        ClientMatrixIT.pythonHas("confluent_kafka"),
        "Debian's python3-confluent-kafka is not installed");
    documented = documentedCommands();
    long started = System.nanoTime();
    work = Files.createDirectories(dir.resolve("checkout"));
    logs = Files.createDirectories(dir.resolve("logs"));
    for (String linked : LINKED) {
      Files.createSymbolicLink(work.resolve(linked), ROOT.resolve(linked));
    }
    Path home = Files.createDirectories(dir.resolve("home"));
    broker = BrokerProcess.startWithoutTopics(Files.createDirectories(dir.resolve("broker")));
    String bootstrap = broker.bootstrapServers();
    // Java takes ~ from the password database, not from HOME: both point at the fresh home
    // `report --open` runs xdg-open: with no desktop it opens with $BROWSER, here a no-op, not a
    // browser window
    environment =
        Map.of(
            "HOME",
            home.toString(),
            "JAVA_TOOL_OPTIONS",
            "-Duser.home=" + home,
            "B",
            bootstrap,
            "EVALFLEET_METRICS_PORT",
            "0",
            "PATH",
            "/usr/bin:/bin:" + System.getenv().getOrDefault("PATH", ""),
            "DISPLAY",
            "",
            "WAYLAND_DISPLAY",
            "",
            "XDG_CURRENT_DESKTOP",
            "",
            "BROWSER",
            "true");
    FleetConfig config =
        FleetConfig.defaults().with(Map.of(FleetConfig.BOOTSTRAP_SERVERS.key(), bootstrap));
    try {
      ran.add(
          doc("B=$(cat .evalfleet/local/bootstrap.servers)")); // the substitution itself: $B is set
      UserFiles files = userFiles();

      run(doc("./evalfleet topics -b kafka:9092"));
      assertThat(run(doc("./evalfleet topics --acls --dry-run")))
          .contains("User:evalfleet-worker")
          .contains("kafka-acls.sh --bootstrap-server");
      try (Admin admin = broker.admin()) {
        Map<String, TopicDescription> topics =
            admin.describeTopics(Topics.ALL).allTopicNames().get(30, TimeUnit.SECONDS);
        assertThat(topics.get(Topics.STAGED).partitions()).as("staged partitions").hasSize(3);
        assertThat(topics.get(Topics.JOBS).partitions()).as("jobs partitions").hasSize(12);
      }
      FleetProcess dispatcher = start("dispatcher", doc("./evalfleet dispatcher -b kafka:9092"));
      FleetProcess worker = start("worker", doc("./evalfleet worker -b kafka:9092"));
      FleetProcess notifier =
          start("notifier", doc("GITHUB_TOKEN=... ./evalfleet notifier -b kafka:9092"));

      Map<String, String> events = new LinkedHashMap<>(); // event id -> what it is
      files.event("docs-m-v1", "m", "v1", files.model);
      events.put(
          submitted(run(doc("./evalfleet submit -b $B --event event.json"))), "m v1 (event.json)");
      String v2 = run(doc("./evalfleet submit -b $B --model m --version v2"));
      assertThat(v2).as("submit m v2 --wait").contains("→  GREEN");
      events.put(submitted(v2), "m v2");
      events.put(
          submitted(run(doc("./evalfleet submit -b $B --model bge --version v1 --pooling cls"))),
          "bge v1");
      events.put(
          submitted(
              run(
                  doc(
                      "./evalfleet submit -b $B --model bge --version v2 --artifact bge-small-en-v1.5/"))),
          "bge v2 (a sentence-transformers folder, its own tokenizer)");
      String v3 = run(doc("./evalfleet submit -b $B --model m --version v3"));
      assertThat(v3).as("submit m v3 --review --wait").contains("→  GREEN");
      events.put(submitted(v3), "m v3");

      // the wire format's own example model and version, staged by kcat keyed by the model name
      files.event("docs-kcat-int8", "all-minilm-l6-v2", "int8", files.int8);
      run(
          doc(
              "jq -c . event.json | kcat -b $B -t evalfleet.weights.staged -P -k all-minilm-l6-v2"));
      events.put("docs-kcat-int8", "all-minilm-l6-v2 int8 (kcat)");

      files.event("docs-python-m-v4", "m", "v4", files.model);
      DocCommand python = doc("python3 docs/examples/stage_and_wait.py --bootstrap-servers $B");
      String green = run(python);
      assertThat(green)
          .as("the Python example on a good version")
          .contains("GREEN: m v4 against v1");
      events.put("docs-python-m-v4", "m v4 (Python example)");
      files.event(
          "docs-python-m-v5",
          "m",
          "v5",
          new ArtifactRef(files.model.uri(), "0".repeat(64), List.of()));
      FleetProcess tampered = shell("python-tampered", python);
      assertThat(tampered.awaitExitStatus(COMMAND_TIMEOUT))
          .as(
              "exit status of the Python example on a tampered" + " artifact; its output:%n%s",
              tampered.log())
          .isEqualTo(1);
      assertThat(tampered.log()).contains("ERROR: m v5");
      events.put("docs-python-m-v5", "m v5 (Python example, tampered: ERROR)");

      Map<String, DriftFlag> flags = new LinkedHashMap<>();
      try (FlagWatcher watcher = new FlagWatcher(config, true)) {
        for (String event : events.keySet()) {
          flags.put(event, watcher.await(event, Duration.ofMinutes(3)));
        }
        watcher.poll(Duration.ofSeconds(2));
        for (String event : events.keySet()) {
          assertThat(watcher.count(event)).as("flags for %s", events.get(event)).isEqualTo(1);
        }
      }
      flags.forEach(
          (event, flag) -> {
            if (events
                .get(event)
                .startsWith(
                    "bge v2")) { // another tokenizer than v1's: judged, whatever the verdict
              assertThat(flag.flag())
                  .as("flag of %s: %s", events.get(event), flag.reasons())
                  .isIn(Flag.GREEN, Flag.WARN, Flag.RED);
            } else {
              assertThat(flag.flag())
                  .as("flag of %s: %s", events.get(event), flag.reasons())
                  .isEqualTo(
                      events.get(event).endsWith("ERROR)")
                          ? Flag.ERROR
                          : flag.version().equals("v1") || flag.model().equals("all-minilm-l6-v2")
                              ? Flag.WARN
                              : Flag.GREEN);
            }
          });

      String flagsRead =
          run(doc("kcat -b $B -t evalfleet.drift-flags -C -o beginning -e -f 'key=%k %s\\n'"));
      assertThat(flagsRead)
          .contains(
              "key=all-minilm-l6-v2 ", "\"event_id\":\"docs-kcat-int8\"", "key=m ", "key=bge ");

      FleetProcess watch = start("watch", doc("./evalfleet watch -b $B --from-beginning"));
      for (DriftFlag flag : flags.values()) {
        watch.awaitLog(
            Pattern.compile("(== " + Pattern.quote(flag.model() + " " + flag.version()) + " )"),
            Duration.ofSeconds(60));
      }
      watch.stop(Duration.ofSeconds(30));

      // the notifier did its job: a review of each flag in the (default) archive
      Path reports = home.resolve(".evalfleet/archive/reports");
      for (DriftFlag flag : flags.values()) {
        if (flag.flag() != Flag.ERROR) {
          Path report =
              reports.resolve(flag.model()).resolve(flag.version()).resolve("report.html");
          FleetHarness.awaitCount(
              "the notifier's report " + report,
              () -> Files.exists(report) ? 1 : 0,
              1,
              Duration.ofSeconds(90));
        }
      }

      // operator commands on what the fleet archived
      assertThat(run(doc("./evalfleet config"))).contains("worker.id");
      assertThat(run(doc("./evalfleet config --metrics"))).contains("evalfleet_");
      // a secret by reference: resolved from the environment, printed as written, never its value
      assertThat(run(doc("KAFKA_KEY_PASSWORD=example-key-password ./evalfleet config --effective")))
          .contains("kafka.ssl.key.password=${env:KAFKA_KEY_PASSWORD}")
          .doesNotContain("kafka.ssl.key.password=example-key-password");
      run(doc("./evalfleet inspect model.onnx --tokenizer tokenizer.json"));
      run(doc("./evalfleet inspect bge-small-en-v1.5/"));
      assertThat(
              run(
                  doc(
                      "./evalfleet noise-floor model.onnx --tokenizer tokenizer.json"
                          + " --subset pairs.parquet")))
          .contains("mean_cosine");
      assertThat(run(doc("./evalfleet lock show --model m v2"))).contains("v2");
      run(doc("./evalfleet lock diff --model m v1 v2"));
      assertThat(run(doc("./evalfleet baseline show -b $B --model m"))).contains("v1");
      run(doc("./evalfleet history --model m --html"));
      run(doc("./evalfleet report --model m --version v2 --open"));
      run(doc("./evalfleet baseline pin -b $B --model m --version v2"));
      run(doc("./evalfleet baseline promote -b $B --model m --version v2"));
      assertThat(run(doc("./evalfleet baseline history --model m"))).contains("v2");
      run(doc("./evalfleet report --model all-minilm-l6-v2 --version int8"));
      run(doc("./evalfleet report --model all-minilm-l6-v2 --version int8 --open"));
      assertThat(run(doc("./evalfleet report --model all-minilm-l6-v2 --version int8 --markdown")))
          .contains("evalfleet:review model=all-minilm-l6-v2");
      assertThat(run(doc("./evalfleet history --model all-minilm-l6-v2"))).contains("int8");
      run(doc("./evalfleet history --model all-minilm-l6-v2 --html"));

      for (FleetProcess role : List.of(dispatcher, worker, notifier)) {
        assertThat(role.alive())
            .as("%s is still up; its log:%n%s", role.name(), role.tail())
            .isTrue();
      }
      List<String> left = new ArrayList<>();
      for (DocCommand command : documented) {
        if (!ran.contains(command)
            && NOT_RUN.keySet().stream().noneMatch(command.line()::startsWith)) {
          left.add(command.file() + ": " + command.line());
        }
      }
      assertThat(left)
          .as("documented commands neither run here nor named in NOT_RUN with a reason")
          .isEmpty();
      System.out.printf(
          Locale.ROOT,
          "documented commands: %d found in %d files, %d run as written (%d processes)"
              + " and $B set for `B=$(cat ...)`, %d not run (%s); %d events flagged as expected; %.1f s%n",
          documented.size(),
          documented.stream().map(DocCommand::file).distinct().count(),
          ran.size() - 1,
          commands,
          documented.size() - ran.size(),
          String.join("; ", NOT_RUN.keySet()),
          flags.size(),
          (System.nanoTime() - started) / 1e9);
    } catch (Throwable e) {
      throw new AssertionError(e.getMessage() + logs(), e);
    } finally {
      for (FleetProcess process : processes) {
        process.close();
      }
      broker.close();
      for (String linked : LINKED) {
        Files.deleteIfExists(
            work.resolve(linked)); // the link only, before the temporary directory goes
      }
    }
  }

  /**
   * The documented command whose one-line form is {@code prefix}, or else the only one that starts
   * with it.
   */
  private DocCommand doc(String prefix) {
    List<DocCommand> found = documented.stream().filter(c -> c.line().equals(prefix)).toList();
    if (found.isEmpty()) {
      found = documented.stream().filter(c -> c.line().startsWith(prefix)).toList();
    }
    assertThat(found).as("documented commands starting with %s", prefix).hasSize(1);
    return found.get(0);
  }

  /** Runs a documented command to its end; it must exit 0. Returns its output. */
  private String run(DocCommand command) throws Exception {
    FleetProcess process = shell("command-" + (commands + 1), command);
    int status = process.awaitExitStatus(COMMAND_TIMEOUT);
    assertThat(status)
        .as(
            "exit status of `%s` (%s); its output:%n%s",
            command.line(), command.file(), process.log())
        .isZero();
    return process.log();
  }

  /** Starts a documented command that runs until stopped; it must still run some seconds later. */
  private FleetProcess start(String name, DocCommand command) throws Exception {
    FleetProcess process = shell(name, command);
    Thread.sleep(3000);
    assertThat(process.alive())
        .as("`%s` keeps running; its output:%n%s", command.line(), process.log())
        .isTrue();
    return process;
  }

  private FleetProcess shell(String name, DocCommand command) throws IOException {
    ran.add(command);
    commands++;
    String text = command.text().replace("kafka:9092", broker.bootstrapServers());
    FleetProcess process = FleetProcess.shell(name, logs, work, environment, text).start();
    processes.add(process);
    return process;
  }

  private static String submitted(String output) {
    Matcher matcher = SUBMITTED.matcher(output);
    assertThat(matcher.find()).as("submit says what it submitted:%n%s", output).isTrue();
    return matcher.group(1);
  }

  private String logs() {
    StringBuilder out = new StringBuilder();
    for (FleetProcess process : processes) {
      try {
        out.append("\n--- ").append(process.name()).append(" ---\n").append(process.tail());
      } catch (IOException e) {
        out.append("\n--- ").append(process.name()).append(": log unreadable");
      }
    }
    return out.toString();
  }

  /** The files the docs tell the user to have, in the directory the commands run in. */
  private final class UserFiles {
    ArtifactRef model;
    ArtifactRef int8;
    ArtifactRef tokenizer;
    SubsetRef pairs;

    void event(String eventId, String model, String version, ArtifactRef artifact)
        throws IOException {
      StagedWeightEvent event =
          StagedWeightEvent.builder()
              .eventId(eventId)
              .model(model)
              .version(version)
              .task(Task.EMBEDDING)
              .artifact(artifact)
              .tokenizer(tokenizer)
              .goldenSubset(pairs)
              .createdAt(Instant.now())
              .build();
      // as a user writes it: indented, over several lines
      Files.writeString(
          work.resolve("event.json"),
          Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(event) + "\n");
    }
  }

  private UserFiles userFiles() throws Exception {
    DemoAssets assets = new DemoAssets(dir.resolve("assets"));
    UserFiles files = new UserFiles();
    DemoAssets.ModelFiles minilm = assets.model(DemoAssets.Model.MINILM_FP32);
    files.model = copy(minilm.onnx(), "model.onnx");
    files.tokenizer = copy(minilm.tokenizer(), "tokenizer.json");
    files.int8 = copy(assets.model(DemoAssets.Model.MINILM_INT8).onnx(), "model-int8.onnx");
    DemoAssets.ModelFiles bge = assets.model(DemoAssets.Model.BGE_SMALL);
    copy(bge.onnx(), "bge.onnx");
    // bge-small-en-v1.5 as sentence-transformers folders hold it: the model, its tokenizer, CLS
    // pooling, normalised
    Path folder = Files.createDirectories(work.resolve("bge-small-en-v1.5"));
    copy(bge.onnx(), "bge-small-en-v1.5/model.onnx");
    copy(bge.tokenizer(), "bge-small-en-v1.5/tokenizer.json");
    Files.writeString(
        folder.resolve("modules.json"),
        """
        [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
         {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
         {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]
        """);
    Files.createDirectories(folder.resolve("2_Normalize"));
    Files.writeString(
        Files.createDirectories(folder.resolve("1_Pooling")).resolve("config.json"),
        """
        {"word_embedding_dimension": 384, "pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false,
         "pooling_mode_max_tokens": false, "pooling_mode_mean_sqrt_len_tokens": false}
        """);
    Path pairs = work.resolve("pairs.parquet");
    GoldenSubsetWriter.writePairs(
        new org.apache.hadoop.fs.Path(pairs.toUri()),
        DemoAssets.readPairs().subList(0, 24),
        1 << 20);
    String uri = pairs.toUri().toString();
    files.pairs = new SubsetRef(uri, Storage.withDefaults().sha256(uri), null, Map.of());
    return files;
  }

  private ArtifactRef copy(ArtifactRef from, String name) throws IOException {
    Path target = work.resolve(name);
    Files.copy(Path.of(URI.create(from.uri())), target);
    return new ArtifactRef(target.toUri().toString(), from.sha256(), List.of());
  }

  /** Every command line in the {@code bash} and {@code sh} blocks of README.md and docs/*.md. */
  static List<DocCommand> documentedCommands() throws IOException {
    List<Path> files = new ArrayList<>(List.of(ROOT.resolve("README.md")));
    try (Stream<Path> docs = Files.list(ROOT.resolve("docs"))) {
      docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(files::add);
    }
    List<DocCommand> commands = new ArrayList<>();
    for (Path file : files) {
      String language = null;
      StringBuilder text = new StringBuilder();
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        if (line.startsWith("```")) {
          language = language == null ? line.substring(3).trim() : null;
          continue;
        }
        if (!"bash".equals(language) && !"sh".equals(language)) {
          continue;
        }
        text.append(line);
        if (line.stripTrailing().endsWith("\\")) {
          text.append('\n');
          continue;
        }
        String oneLine =
            text.toString()
                .replace("\\\n", " ")
                .replaceAll("(^|\\s)#\\s.*$", "")
                .strip()
                .replaceAll("\\s+", " ");
        if (!oneLine.isEmpty()) {
          commands.add(new DocCommand(ROOT.relativize(file).toString(), text.toString(), oneLine));
        }
        text.setLength(0);
      }
    }
    return commands;
  }
}
