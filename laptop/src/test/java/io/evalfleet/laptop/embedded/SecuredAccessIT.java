package io.evalfleet.laptop.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowable;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.evalfleet.cli.Evalfleet;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.kafka.Groups;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.kafka.acl.FleetRole;
import io.evalfleet.common.kafka.acl.KafkaDenial;
import io.evalfleet.common.kafka.acl.RoleAcls;
import io.evalfleet.common.kafka.consume.CommitSafeLoop;
import io.evalfleet.common.task.Task;
import io.evalfleet.dispatcher.DispatcherRole;
import io.evalfleet.worker.WorkerRole;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Least privilege on a secured broker (SASL_SSL, SCRAM-SHA-512, an authorizer that denies what no
 * ACL allows): the ACLs are applied by {@code evalfleet topics --acls} as the docs print it, run as
 * the admin; then each role's principal is refused what its role must not do, with an error that
 * names the topic or group and comes within seconds, and is allowed what it must do, next to it.
 */
class SecuredAccessIT {
  /** How long a denial may take to be reported: the clients must not wait for a timeout. */
  static final Duration PROMPT = Duration.ofSeconds(30);

  @TempDir static Path dir;
  static SecuredKafka kafka;
  static Path adminSettings;
  static final Map<String, String> passwords = new HashMap<>();
  static String aclTable;

  @BeforeAll
  static void start() throws Exception {
    kafka = SecuredKafka.start(dir.resolve("broker"));
    for (String user :
        List.of(
            "dispatcher",
            "worker",
            "notifier",
            "monitor",
            "submitter",
            "promotion",
            "baseline-manager",
            "worker-nogroup",
            "dispatcher-nogroup")) {
      passwords.put(user, kafka.addScramUser(user));
    }
    // The admin's settings in a file, as an operator keeps them: never on the command line.
    Properties admin = new Properties();
    kafka.adminProperties().forEach((k, v) -> admin.setProperty("kafka." + k, v.toString()));
    adminSettings = dir.resolve("admin.properties");
    try (var out = Files.newBufferedWriter(adminSettings)) {
      admin.store(out, null);
    }
    CliRun topics =
        cli(
            "topics",
            "--config",
            adminSettings.toString(),
            "--job-partitions",
            "2",
            "--acls",
            "--principal",
            "dispatcher=User:dispatcher",
            "--principal",
            "worker=User:worker",
            "--principal",
            "notifier=User:notifier",
            "--principal",
            "monitor=User:monitor",
            "--principal",
            "submitter=User:submitter",
            "--principal",
            "promotion-reader=User:promotion",
            "--principal",
            "baseline-manager=User:baseline-manager");
    assertThat(topics.code()).as(topics.console()).isZero();
    aclTable = topics.out();
    // A worker principal with every ACL of its role but its group's.
    try (Admin a = Admin.create(kafka.adminProperties())) {
      a.createAcls(
              RoleAcls.bindings(FleetRole.WORKER, "User:worker-nogroup").stream()
                  .filter(b -> b.pattern().resourceType() != ResourceType.GROUP)
                  .toList())
          .all()
          .get(30, TimeUnit.SECONDS);
      // A dispatcher principal with every ACL of its role but its Streams application's group.
      a.createAcls(
              RoleAcls.bindings(FleetRole.DISPATCHER, "User:dispatcher-nogroup").stream()
                  .filter(
                      b ->
                          b.pattern().resourceType() != ResourceType.GROUP
                              || !b.pattern().name().equals(Groups.DISPATCHER))
                  .toList())
          .all()
          .get(30, TimeUnit.SECONDS);
    }
    Thread.sleep(1_000); // ACLs reach the authorizer through the metadata log
  }

  @AfterAll
  static void stop() throws Exception {
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void theCommandPrintsWhatEachPrincipalGotAndApplyingItAgainChangesNothing() {
    assertThat(aclTable)
        .containsPattern("User:worker +worker +topic:evalfleet.results +literal +WRITE")
        .containsPattern("User:promotion +promotion-reader +topic:evalfleet.drift-flags .* READ");
    CliRun again =
        cli(
            "topics",
            "--config",
            adminSettings.toString(),
            "--acls",
            "--principal",
            "worker=User:worker",
            "--principal",
            "worker=User:wroker");
    assertThat(again.code()).as(again.console()).isZero();
    assertThat(again.out())
        .contains("note: the cluster has no SCRAM user wroker")
        .doesNotContain("no SCRAM user worker");
    assertThat(aclTable).doesNotContain("no SCRAM user");
  }

  @Test
  void theTopicsCommandAsAFleetRoleSaysItNeedsAnAdministrator() {
    CliRun denied =
        cli(withUser("worker", "topics", "--acls", "--principal", "worker=User:worker"));
    assertThat(denied.code()).as(denied.console()).isEqualTo(2);
    assertThat(denied.err())
        .contains("takes an administrator's principal (CREATE and ALTER on the cluster)")
        .doesNotContain("\tat ");
    assertThat(denied.took()).isLessThan(PROMPT);
  }

  @Test
  void aWorkerWritesResultsButNeitherFlagsNorBaselines() {
    allowedToWrite("worker", Topics.RESULTS);
    deniedToWrite("worker", Topics.DRIFT_FLAGS);
    deniedToWrite("worker", Topics.BASELINES);
  }

  @Test
  void aSubmitterStagesAndReadsFlagsButCannotReadResults() {
    allowedToWrite("submitter", Topics.STAGED);
    allowedToRead("submitter", Topics.DRIFT_FLAGS);
    deniedToRead("submitter", Topics.RESULTS);
  }

  @Test
  void aPromotionReaderReadsFlagsAndNothingElse() {
    allowedToRead("promotion", Topics.DRIFT_FLAGS);
    for (String topic :
        List.of(
            Topics.JOBS, Topics.RESULTS, Topics.STAGED, Topics.BASELINES, Topics.RUN_PROGRESS)) {
      deniedToRead("promotion", topic);
    }
    deniedToWrite("promotion", Topics.DRIFT_FLAGS);
    deniedToWrite("promotion", Topics.STAGED);
  }

  @Test
  void theNotifierAndTheMonitorCannotWriteFlagsNorTheMonitorBaselines() {
    allowedToRead("notifier", Topics.DRIFT_FLAGS);
    deniedToWrite("notifier", Topics.DRIFT_FLAGS);
    allowedToWrite("monitor", Topics.MONITOR);
    deniedToWrite("monitor", Topics.DRIFT_FLAGS);
    deniedToWrite("monitor", Topics.BASELINES);
    allowedToWrite("baseline-manager", Topics.BASELINES);
  }

  @Test
  void aWorkerWithoutItsGroupAclStopsWithOneClearLineWhileOneWithItKeepsRunning() throws Exception {
    Logger loopLog = (Logger) LoggerFactory.getLogger(CommitSafeLoop.class);
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    loopLog.addAppender(lines);
    WorkerRole denied = null;
    WorkerRole allowed = null;
    try {
      long started = System.nanoTime();
      denied = worker("worker-nogroup").start();
      allowed = worker("worker").start();
      WorkerRole stopped = denied;
      Awaitility.await("the worker without its group ACL stopped")
          .atMost(PROMPT)
          .until(() -> !stopped.alive());
      Duration took = Duration.ofNanos(System.nanoTime() - started);
      Thread.sleep(5_000); // time enough for a loop that retried to log again
      List<String> stops =
          lines.list.stream()
              .map(ILoggingEvent::getFormattedMessage)
              .filter(m -> m.startsWith("worker stopped:"))
              .toList();
      assertThat(stops).as("log lines of the stop").hasSize(1);
      assertThat(stops.get(0))
          .contains("consumer group " + "evalfleet-workers")
          .contains("--principal worker=User:NAME");
      assertThat(took).isLessThan(PROMPT);
      assertThat(denied.alive()).isFalse();
      assertThat(allowed.alive()).as("the worker with its group ACL").isTrue();
    } finally {
      loopLog.detachAppender(lines);
      if (denied != null) {
        denied.close(Duration.ofSeconds(5));
      }
      if (allowed != null) {
        allowed.close(Duration.ofSeconds(5));
      }
    }
  }

  @Test
  void aDispatcherWithoutItsGroupAclShutsDownWithOneClearLineInsteadOfReplacingItsThreads()
      throws Exception {
    Logger roleLog = (Logger) LoggerFactory.getLogger(DispatcherRole.class);
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    roleLog.addAppender(lines);
    Map<String, String> settings =
        new HashMap<>(
            kafka.clientProperties("dispatcher-nogroup", passwords.get("dispatcher-nogroup")));
    settings.put("archive.root", dir.resolve("archive").toUri().toString());
    settings.put(
        "dispatcher.state-dir", Files.createTempDirectory(dir, "dispatcher-state").toString());
    DispatcherRole denied = null;
    try {
      long started = System.nanoTime();
      denied = new DispatcherRole(FleetConfig.of(settings), Clock.systemUTC()).start();
      DispatcherRole stopping = denied;
      Awaitility.await("the dispatcher without its group ACL stopped")
          .atMost(PROMPT)
          .until(() -> !stopping.alive());
      Duration took = Duration.ofNanos(System.nanoTime() - started);
      Thread.sleep(5_000); // time enough for replaced threads to fail again
      List<String> messages = lines.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
      assertThat(messages.stream().filter(m -> m.startsWith("dispatcher stopped:")))
          .as("log lines of the stop")
          .hasSize(1)
          .allSatisfy(
              m ->
                  assertThat(m)
                      .contains("consumer group " + Groups.DISPATCHER)
                      .contains("--principal dispatcher=User:NAME"));
      assertThat(messages).noneMatch(m -> m.contains("replacing it"));
      assertThat(took).isLessThan(PROMPT);
    } finally {
      roleLog.detachAppender(lines);
      if (denied != null) {
        denied.close(Duration.ofSeconds(10));
      }
    }
  }

  @Test
  void submitWithoutWriteOnStagedExitsAtOnceWithOneLineNamingTheTopic() throws Exception {
    Path event = dir.resolve("event.json");
    Files.write(
        event,
        Json.write(
            StagedWeightEvent.builder()
                .eventId("e-" + UUID.randomUUID())
                .model("m")
                .version("v1")
                .task(Task.EMBEDDING)
                .artifact(new ArtifactRef("file:/models/m.onnx", "0".repeat(64)))
                .tokenizer(new ArtifactRef("file:/models/tokenizer.json", "1".repeat(64)))
                .goldenSubset(new SubsetRef("file:/pairs.parquet", "0".repeat(64), null, null))
                .createdAt(Instant.now())
                .build()));

    CliRun denied = cli(withUser("promotion", "submit", "--event", event.toString()));
    assertThat(denied.code()).as(denied.console()).isEqualTo(2);
    assertThat(denied.err())
        .contains("cannot write the event to " + Topics.STAGED)
        .contains("--principal submitter=User:NAME")
        .doesNotContain("\tat ");
    assertThat(said(denied)).as("lines on the console").hasSize(1);
    assertThat(denied.took()).isLessThan(PROMPT);

    CliRun allowed = cli(withUser("submitter", "submit", "--event", event.toString()));
    assertThat(allowed.code()).as(allowed.console()).isZero();
  }

  @Test
  void baselineShowWithoutReadOnBaselinesIsOneLineNamingTheTopic() {
    CliRun denied = cli(withUser("worker", "baseline", "show", "--model", "m"));
    assertThat(denied.code()).as(denied.console()).isEqualTo(2);
    assertThat(denied.err())
        .contains("access on topic " + Topics.BASELINES)
        .contains("READ for baseline-manager, dispatcher; WRITE for")
        .doesNotContain("\tat ");
    assertThat(denied.took()).isLessThan(PROMPT);

    CliRun allowed = cli(withUser("baseline-manager", "baseline", "show", "--model", "m"));
    assertThat(allowed.console()).doesNotContain("denied");
  }

  @Test
  void watchAsAPromotionReaderShowsFlagsAndSaysProgressIsNotVisible() {
    CliRun watch = cli(withUser("promotion", "watch", "--for", "PT3S"));
    assertThat(watch.code()).as(watch.console()).isZero();
    assertThat(watch.err()).contains("progress is not visible to this principal");
    assertThat(watch.took()).isLessThan(PROMPT);
  }

  @Test
  void aWrongPasswordIsOneClearLineWithoutTheSecret() {
    String wrong = "wrong-" + UUID.randomUUID();
    CliRun watch =
        cli(withSettings(kafka.clientProperties("submitter", wrong), "watch", "--for", "PT3S"));
    assertThat(watch.code()).as(watch.console()).isEqualTo(2);
    assertThat(watch.err()).contains("Kafka refused the credentials").doesNotContain("\tat ");
    assertThat(watch.console()).doesNotContain(wrong);
    assertThat(said(watch)).as("lines on the console").hasSize(1);
    assertThat(watch.took()).isLessThan(PROMPT);
  }

  // --- helpers

  static FleetConfig config(String user) {
    Map<String, String> settings = new HashMap<>(kafka.clientProperties(user, passwords.get(user)));
    settings.put("archive.root", dir.resolve("archive").toUri().toString());
    return FleetConfig.of(settings);
  }

  static WorkerRole worker(String user) throws Exception {
    return new WorkerRole(
        config(user), user + "-" + UUID.randomUUID(), Files.createTempDirectory(dir, "cache"));
  }

  static void allowedToWrite(String user, String topic) {
    assertThatCode(() -> write(user, topic))
        .as("%s writes %s", user, topic)
        .doesNotThrowAnyException();
  }

  static void deniedToWrite(String user, String topic) {
    long started = System.nanoTime();
    Throwable failure = catchThrowable(() -> write(user, topic));
    Duration took = Duration.ofNanos(System.nanoTime() - started);
    assertThat(failure).as("%s writes %s", user, topic).isNotNull();
    KafkaDenial denial =
        KafkaDenial.of(failure).orElseThrow(() -> new AssertionError("not a denial", failure));
    if (denial.resourceType() == ResourceType.CLUSTER) {
      // KIP-679: a principal that may write no topic at all is refused its producer id first.
      assertThat(user).as("refused a producer id: %s", failure).isEqualTo("promotion");
      assertThat(denial.message(AclOperation.WRITE)).contains("may WRITE on no topic at all");
    } else {
      assertThat(denial.names()).as("%s", failure).containsExactly(topic);
      assertThat(denial.message(AclOperation.WRITE)).contains("WRITE on topic " + topic);
    }
    assertThat(took).as("%s writing %s was refused in", user, topic).isLessThan(PROMPT);
  }

  static void allowedToRead(String user, String topic) {
    assertThatCode(() -> read(user, topic))
        .as("%s reads %s", user, topic)
        .doesNotThrowAnyException();
  }

  static void deniedToRead(String user, String topic) {
    long started = System.nanoTime();
    Throwable failure = catchThrowable(() -> read(user, topic));
    Duration took = Duration.ofNanos(System.nanoTime() - started);
    assertThat(failure).as("%s reads %s", user, topic).isNotNull();
    assertThat(KafkaDenial.of(failure)).as("%s reading %s: %s", user, topic, failure).isPresent();
    assertThat(KafkaDenial.of(failure).orElseThrow().message(AclOperation.READ))
        .contains("READ on topic " + topic);
    assertThat(took).as("%s reading %s was refused in", user, topic).isLessThan(PROMPT);
  }

  /** Publishes one record as the fleet's producers do. */
  static void write(String user, String topic) throws Exception {
    try (KafkaProducer<String, byte[]> producer = KafkaClients.producer(config(user), user)) {
      producer
          .send(new ProducerRecord<>(topic, "k", "{}".getBytes(StandardCharsets.UTF_8)))
          .get(PROMPT.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }

  /** Reads a topic from its start, outside any group, as the command-line readers do. */
  static void read(String user, String topic) {
    try (KafkaConsumer<String, byte[]> consumer = KafkaClients.reader(config(user), user)) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic, PROMPT).stream()
              .map(p -> new TopicPartition(p.topic(), p.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      consumer.poll(Duration.ofSeconds(1));
    }
  }

  /**
   * The command line of a command run as {@code user}: its settings in a file, as the docs keep
   * them, never on the command line.
   */
  static String[] withUser(String user, String... command) {
    return withSettings(kafka.clientProperties(user, passwords.get(user)), command);
  }

  static String[] withSettings(Map<String, String> settings, String... command) {
    Properties properties = new Properties();
    properties.putAll(settings);
    Path file = dir.resolve(UUID.randomUUID() + ".properties");
    try (var out = Files.newBufferedWriter(file)) {
      properties.store(out, null);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    List<String> args = new ArrayList<>(List.of(command));
    args.addAll(List.of("--config", file.toString()));
    return args.toArray(String[]::new);
  }

  /** What a command said on the console, besides where its full log went. */
  static List<String> said(CliRun run) {
    return run.console().lines().filter(l -> !l.isBlank() && !l.startsWith("full log:")).toList();
  }

  record CliRun(int code, String out, String err, Duration took) {
    String console() {
      return out + err;
    }
  }

  /** Runs an evalfleet command through picocli in this JVM, as {@code ./evalfleet} would. */
  static CliRun cli(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream stdout = System.out;
    PrintStream stderr = System.err;
    long started = System.nanoTime();
    int code;
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      var line = Evalfleet.commandLine();
      line.setErr(new PrintWriter(System.err, true));
      line.setOut(new PrintWriter(System.out, true));
      code = Evalfleet.execute(line, args);
    } finally {
      System.setOut(stdout);
      System.setErr(stderr);
    }
    CliRun run =
        new CliRun(
            code,
            out.toString(StandardCharsets.UTF_8),
            err.toString(StandardCharsets.UTF_8),
            Duration.ofNanos(System.nanoTime() - started));
    System.out.printf("evalfleet %s (exit %d):%n%s%n", args[0], code, run.console().indent(4));
    return run;
  }
}
