package io.evalfleet.laptop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import io.evalfleet.cli.FlagWatcher;
import io.evalfleet.cli.Submitter;
import io.evalfleet.cli.archive.Promotion;
import io.evalfleet.cli.progress.ProgressWatcher;
import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.ChangeKind;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.MonitorResult;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.kafka.Groups;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.TopicSetup;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.kafka.acl.FleetRole;
import io.evalfleet.common.kafka.acl.RoleAcls;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.task.Task;
import io.evalfleet.dispatcher.DispatcherRole;
import io.evalfleet.dispatcher.baseline.BaselineRecord;
import io.evalfleet.dispatcher.baseline.BaselineStore;
import io.evalfleet.laptop.demo.DemoAssets;
import io.evalfleet.laptop.demo.SupportTraffic;
import io.evalfleet.laptop.embedded.EmbeddedKafka;
import io.evalfleet.laptop.embedded.SecuredKafka;
import io.evalfleet.laptop.storage.StoredFleetScenario;
import io.evalfleet.monitor.MonitorRole;
import io.evalfleet.monitor.MonitorSpec;
import io.evalfleet.notifier.NotifierRole;
import io.evalfleet.notifier.ReviewPublisher;
import io.evalfleet.worker.WorkerRole;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.AuthorizationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The fleet on a secured broker ({@link SecuredKafka}: SASL_SSL with SCRAM-SHA-512, mutual TLS, the
 * StandardAuthorizer denying what no ACL allows), each role connecting as its own principal with
 * nothing but {@link RoleAcls}' grants: the demo's events get the same flags, to the last digit, as
 * on a plaintext broker; no role is denied anything; every grant the scenario can reach is used;
 * and no password or key store password of the run appears in any log line.
 */
class SecuredFleetIT {
  static final Duration WAIT = Duration.ofMinutes(3);
  static final Instant TRAFFIC_START = Instant.parse("2026-11-01T00:00:00Z");

  /**
   * Grants no step of the scenario reaches, with the path that needs them: these are checked by
   * reading, not by this run.
   */
  static final Map<String, String> NOT_REACHED =
      Map.of(
          "WORKER WRITE TOPIC " + Topics.DLQ,
          "a job record a worker cannot read (BadInputMatrixIT)",
          "NOTIFIER WRITE TOPIC " + Topics.DLQ,
          "a review the notifier cannot deliver",
          "DISPATCHER WRITE TOPIC " + Topics.RUNS_CANCELLED,
          "a run a sequential look stops early: its jobs still out are cancelled (Looks)",
          "DISPATCHER WRITE TOPIC " + Topics.RESULTS,
          "a result read on a partition its model's task does not own, sent on to it (Collector)");

  @TempDir Path dir;

  @Test
  void eachRoleAsItsOwnPrincipalGetsTheFlagsOfAPlaintextBrokerAndNoSecretIsLogged()
      throws Exception {
    Inputs inputs = Inputs.make(dir.resolve("inputs"));
    LogCapture capture = LogCapture.attach();
    try {
      long plainStart = System.nanoTime();
      Observed plain;
      try (EmbeddedKafka kafka = EmbeddedKafka.start(6)) {
        FleetConfig config =
            FleetConfig.defaults()
                .with(Map.of(FleetConfig.BOOTSTRAP_SERVERS.key(), kafka.bootstrapServers()));
        Map<FleetRole, FleetConfig> roles = new EnumMap<>(FleetRole.class);
        for (FleetRole role : FleetRole.values()) {
          roles.put(role, config);
        }
        plain =
            new Scenario(inputs, dir.resolve("plaintext"))
                .run(roles, Map.of("worker-1", config, "worker-2", config), config);
      }
      Duration plainTime = Duration.ofNanos(System.nanoTime() - plainStart);

      long securedStart = System.nanoTime();
      Observed secured;
      List<String> authorizer;
      List<String> secrets;
      List<String> brokerLog;
      Map<FleetRole, String> principals = new EnumMap<>(FleetRole.class);
      String tlsWorker = "User:evalfleet-worker-tls";
      long brokerPid;
      try (SecuredKafka kafka = SecuredKafka.start(dir.resolve("secured-broker"))) {
        brokerPid = kafka.pid();
        System.out.printf(
            "secured broker up in %.1f s (certificate authority, broker certificate, storage"
                + " format, child JVM)%n",
            (System.nanoTime() - securedStart) / 1e9);
        Map<FleetRole, FleetConfig> roles = new EnumMap<>(FleetRole.class);
        try (Admin admin = Admin.create(kafka.adminProperties())) {
          TopicSetup.ensure(admin, 6);
          for (FleetRole role :
              List.of(
                  FleetRole.DISPATCHER,
                  FleetRole.WORKER,
                  FleetRole.NOTIFIER,
                  FleetRole.MONITOR,
                  FleetRole.SUBMITTER,
                  FleetRole.PROMOTION_READER,
                  FleetRole.BASELINE_MANAGER)) {
            String user = "evalfleet-" + role.cliName();
            String password = kafka.addScramUser(user);
            principals.put(role, "User:" + user);
            roles.put(role, FleetConfig.defaults().with(kafka.clientProperties(user, password)));
            createAcls(admin, RoleAcls.bindings(role, "User:" + user));
          }
          // The second worker has no password: its client certificate is its principal.
          createAcls(admin, RoleAcls.bindings(FleetRole.WORKER, tlsWorker));
        }
        FleetConfig tls =
            FleetConfig.defaults().with(kafka.mtlsClientProperties("evalfleet-worker-tls"));
        FleetConfig admin = FleetConfig.defaults().with(prefixed(kafka.adminProperties()));
        Thread.sleep(500); // the ACLs reach the authorizer through the metadata log
        capture.kafkaClientsAtInfo(); // their configuration dumps are where a secret would show
        secured =
            new Scenario(inputs, dir.resolve("secured"))
                .run(
                    roles,
                    Map.of("worker-sasl", roles.get(FleetRole.WORKER), "worker-tls", tls),
                    admin);
        authorizer = kafka.authorizerLog();
        // Least privilege, the other way round: what runs model files, or only reads flags, cannot
        // forge a flag or read what is staged.
        assertThat(publishFails(tls, Topics.DRIFT_FLAGS))
            .as("the worker publishes a flag")
            .isTrue();
        assertThat(publishFails(roles.get(FleetRole.PROMOTION_READER), Topics.DRIFT_FLAGS))
            .as("the promotion reader publishes a flag")
            .isTrue();
        assertThat(publishFails(roles.get(FleetRole.SUBMITTER), Topics.BASELINES))
            .as("the submitter moves a baseline")
            .isTrue();
        assertThat(readFails(roles.get(FleetRole.WORKER), Topics.STAGED))
            .as("the worker reads staged events")
            .isTrue();
        secrets = kafka.secrets();
        brokerLog = kafka.brokerLog();
      }
      Duration securedTime = Duration.ofNanos(System.nanoTime() - securedStart);
      assertThat(ProcessHandle.of(brokerPid).filter(ProcessHandle::isAlive))
          .as("the broker process after close")
          .isEmpty();
      capture.detach();

      System.out.printf(
          "plaintext run %.1f s, secured run %.1f s (broker start, certificates and users"
              + " included)%n",
          plainTime.toNanos() / 1e9, securedTime.toNanos() / 1e9);
      Map<String, String> plainFlags = plain.comparable();
      Map<String, String> securedFlags = secured.comparable();
      plainFlags.forEach((step, json) -> System.out.println("flag of " + step + ":\n" + json));
      assertThat(securedFlags).isEqualTo(plainFlags);
      assertThat(plain.flags().get("embedding-fp32").flag()).isEqualTo(Flag.WARN);
      assertThat(plain.flags().get("lm-finetuned").flag()).isEqualTo(Flag.RED);
      assertThat(plain.flags().get("bad-digest").flag()).isEqualTo(Flag.ERROR);
      assertThat(secured.promotionFlags())
          .as("the promotion reader read every flag")
          .containsAll(secured.flags().keySet());
      assertThat(plain.promoted()).isEqualTo("int8");
      assertThat(secured.promoted())
          .as("the production baseline after `baseline promote`")
          .isEqualTo("int8");
      assertThat(secured.progressRecords())
          .as("`submit --wait` saw the runs' progress")
          .isPositive();
      System.out.println("results by worker, secured run: " + secured.resultsByWorker());
      assertThat(secured.resultsByWorker().keySet())
          .as("both workers scored: one on SASL_SSL, one on mutual TLS")
          .containsExactlyInAnyOrder("worker-sasl", "worker-tls");

      // No role was denied anything, and every grant was used, but those no step reaches.
      Set<String> rolePrincipals = new LinkedHashSet<>(principals.values());
      rolePrincipals.add(tlsWorker);
      List<String> denied =
          authorizer.stream()
              .filter(l -> l.contains(" is Denied "))
              .filter(l -> rolePrincipals.stream().anyMatch(p -> l.startsWith("Principal = " + p)))
              .toList();
      assertThat(denied).as("authorizations denied to a role").isEmpty();
      Set<String> unused = new TreeSet<>();
      principals.forEach(
          (role, principal) -> {
            for (AclBinding binding : RoleAcls.bindings(role, principal)) {
              if (authorizer.stream().noneMatch(l -> usedFor(l, binding))) {
                unused.add(
                    role
                        + " "
                        + binding.entry().operation()
                        + " "
                        + binding.pattern().resourceType()
                        + " "
                        + binding.pattern().name());
              }
            }
          });
      System.out.println("grants no step used: " + unused);
      assertThat(unused).as("grants no step used").isEqualTo(NOT_REACHED.keySet());
      assertThat(
              authorizer.stream()
                  .anyMatch(l -> l.startsWith("Principal = " + tlsWorker + " is Allowed")))
          .as("the worker's certificate is the principal User:evalfleet-worker-tls")
          .isTrue();

      // No secret of the run in any log line: this JVM's roles and clients, the broker process.
      List<String> lines = new ArrayList<>(capture.lines());
      lines.addAll(brokerLog);
      lines.addAll(authorizer);
      System.out.printf("%d log lines checked for %d secrets%n", lines.size(), secrets.size());
      assertThat(lines).hasSizeGreaterThan(1000);
      assertThat(lines)
          .as("the clients' configuration dumps, where a password would show, were captured")
          .anyMatch(l -> l.contains("sasl.jaas.config = [hidden]"))
          .anyMatch(l -> l.contains("ssl.keystore.password = [hidden]"));
      // 7 SCRAM users and the admin; the authority's, broker's, worker's and trust stores
      assertThat(secrets).hasSize(8 + 4);
      for (String secret : secrets) {
        assertThat(lines).noneMatch(l -> l.contains(secret));
      }
    } finally {
      capture.detach();
    }
  }

  /**
   * Whether publishing one record on {@code topic} is refused for want of an ACL (a failure of
   * another kind is thrown).
   */
  static boolean publishFails(FleetConfig config, String topic) {
    try (KafkaProducer<String, byte[]> producer =
        KafkaClients.producer(
            config.with(Map.of("kafka.max.block.ms", "15000")), "least-privilege-probe")) {
      producer.send(new ProducerRecord<>(topic, "probe", new byte[0])).get();
      return false;
    } catch (Exception e) {
      // A principal that may write no topic at all is refused an idempotent producer id first.
      if (hasCause(e, AuthorizationException.class)) {
        return true;
      }
      throw new AssertionError("refused, but not for want of an ACL", e);
    }
  }

  /**
   * Whether reading {@code topic} is refused for want of an ACL (a failure of another kind is
   * thrown).
   */
  static boolean readFails(FleetConfig config, String topic) {
    try (KafkaConsumer<String, byte[]> consumer =
        KafkaClients.reader(config, "least-privilege-probe")) {
      consumer.assign(List.of(new TopicPartition(topic, 0)));
      consumer.seekToBeginning(consumer.assignment());
      consumer.poll(Duration.ofSeconds(10));
      return false;
    } catch (Exception e) {
      if (hasCause(e, AuthorizationException.class)) {
        return true;
      }
      throw new AssertionError("refused, but not for want of an ACL", e);
    }
  }

  static boolean hasCause(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  static void createAcls(Admin admin, List<AclBinding> bindings) throws Exception {
    admin.createAcls(bindings).all().get();
  }

  /**
   * Whether the authorizer's line says {@code binding} allowed a request for its own operation: a
   * READ grant that only answered a DESCRIBE (which READ implies) is not a use of READ.
   */
  static boolean usedFor(String line, AclBinding binding) {
    AclOperation operation = binding.entry().operation();
    return line.contains(" is Allowed ")
        && line.contains(aclText(binding))
        && (operation == AclOperation.ALL || line.contains(" operation = " + operation + " "));
  }

  /** How the authorizer's log names an ACL: {@code StandardAcl[resourceType=..., ...]}. */
  static String aclText(AclBinding binding) {
    return "resourceType="
        + binding.pattern().resourceType()
        + ", resourceName="
        + binding.pattern().name()
        + ", patternType="
        + binding.pattern().patternType()
        + ", principal="
        + binding.entry().principal()
        + ", host="
        + binding.entry().host()
        + ", operation="
        + binding.entry().operation()
        + ", permissionType="
        + binding.entry().permissionType()
        + "]";
  }

  static Map<String, String> prefixed(Map<String, Object> clientProperties) {
    Map<String, String> out = new HashMap<>();
    clientProperties.forEach((k, v) -> out.put("kafka." + k, String.valueOf(v)));
    return out;
  }

  /** The demo's files, made once for both runs. */
  record Inputs(
      DemoAssets.ModelFiles fp32,
      DemoAssets.ModelFiles int8,
      DemoAssets.ModelFiles lmBase,
      DemoAssets.ModelFiles lmTuned,
      SubsetRef golden,
      SubsetRef heldout,
      SubsetRef retrieval,
      String traffic) {
    static Inputs make(Path dir) throws Exception {
      DemoAssets assets = new DemoAssets(dir);
      return new Inputs(
          assets.model(DemoAssets.Model.MINILM_FP32),
          assets.model(DemoAssets.Model.MINILM_INT8),
          assets.causalModel(DemoAssets.CausalModel.BYTEGPT_BASE),
          assets.causalModel(DemoAssets.CausalModel.BYTEGPT_FINETUNED),
          assets.goldenSubset(),
          assets.heldoutText(),
          assets.retrievalSubset(),
          SupportTraffic.write(dir.resolve("traffic"), TRAFFIC_START, 8, 7, 3));
    }
  }

  /** What one run saw. */
  record Observed(
      LinkedHashMap<String, DriftFlag> flags,
      MonitorResult monitor,
      String archiveRoot,
      List<String> workRoots,
      Set<String> promotionFlags,
      String promoted,
      int progressRecords,
      Map<String, Integer> resultsByWorker) {
    /**
     * Each flag and the monitor's result as JSON, without ids and times, every double as is. Where
     * a sequential look fell (after how many rows) depends on which results had arrived by then, so
     * that count is left out of the reason; the look count and how the run stopped stay in.
     */
    Map<String, String> comparable() {
      Map<String, String> out = new LinkedHashMap<>();
      new StoredFleetScenario.Observed(flags, monitor, archiveRoot, List.of(), Duration.ZERO)
          .comparable(workRoots)
          .forEach(
              (step, json) ->
                  out.put(
                      step,
                      json.replaceAll("after [0-9]+ of ([0-9]+) rows", "after <n> of $1 rows")));
      return out;
    }
  }

  /** The demo's steps, staged by the submitter, each role on the settings it is given. */
  static final class Scenario {
    private final Inputs inputs;
    private final Path work;

    Scenario(Inputs inputs, Path work) {
      this.inputs = inputs;
      this.work = work;
    }

    /**
     * @param roles each role's settings (its principal)
     * @param workers the settings of each worker, by worker id
     * @param reader settings that may read the results topic
     */
    Observed run(
        Map<FleetRole, FleetConfig> roles, Map<String, FleetConfig> workers, FleetConfig reader)
        throws Exception {
      Files.createDirectories(work);
      String archiveRoot = work.resolve("archive").toUri().toString();
      Map<String, String> common =
          Map.of(
              FleetConfig.ARCHIVE_ROOT.key(),
              archiveRoot,
              FleetConfig.SHARD_ROWS.key(),
              "32",
              FleetConfig.INTRA_OP_THREADS.key(),
              "1",
              FleetConfig.DISPATCHER_STATE_DIR.key(),
              work.resolve("dispatcher-state").toString());
      Map<FleetRole, FleetConfig> as = new EnumMap<>(FleetRole.class);
      roles.forEach((role, config) -> as.put(role, config.with(common)));
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      LinkedHashMap<String, DriftFlag> flags = new LinkedHashMap<>();
      MonitorResult monitored;
      AtomicInteger progress = new AtomicInteger();
      List<WorkerRole> started = new ArrayList<>();
      DispatcherRole dispatcher =
          new DispatcherRole(as.get(FleetRole.DISPATCHER), Clock.systemUTC(), registry).start();
      NotifierRole notifier = null;
      try {
        for (Map.Entry<String, FleetConfig> worker : new java.util.TreeMap<>(workers).entrySet()) {
          started.add(
              new WorkerRole(
                      worker.getValue().with(common),
                      worker.getKey(),
                      work.resolve("cache-" + worker.getKey()),
                      new SimpleMeterRegistry())
                  .start());
        }
        notifier = new NotifierRole(as.get(FleetRole.NOTIFIER), registry).start();
        FleetConfig submitterConfig = as.get(FleetRole.SUBMITTER);
        // As `evalfleet submit --wait` does: stage, then follow the run's progress and its flag.
        try (Submitter submitter = new Submitter(submitterConfig);
            FlagWatcher watcher = new FlagWatcher(submitterConfig, false);
            ProgressWatcher progressWatcher = new ProgressWatcher(submitterConfig)) {
          Map<String, StagedWeightEvent> steps = steps();
          for (Map.Entry<String, StagedWeightEvent> step : steps.entrySet()) {
            submitter.submit(step.getValue());
            flags.put(
                step.getKey(),
                watcher.await(
                    step.getValue().eventId(),
                    WAIT,
                    () -> progress.addAndGet(progressWatcher.poll(Duration.ofMillis(50)).size())));
          }
        }
        try (MonitorRole monitor =
            new MonitorRole(
                as.get(FleetRole.MONITOR),
                monitorSpec(),
                work.resolve("monitor-cache"),
                new SimpleMeterRegistry(),
                Clock.systemUTC())) {
          monitored = monitor.checkAt(TRAFFIC_START.plus(Duration.ofHours(8)));
        }
        // Restarted, the monitor reads the retraining requests already published (its ledger).
        new MonitorRole(
                as.get(FleetRole.MONITOR),
                monitorSpec(),
                work.resolve("monitor-cache"),
                new SimpleMeterRegistry(),
                Clock.systemUTC())
            .close();
        Set<String> promotion = readAsPromotionService(as.get(FleetRole.PROMOTION_READER), flags);
        String promoted = promoteAsReleaseManager(as.get(FleetRole.BASELINE_MANAGER));
        EvaluationArchive archive = new EvaluationArchive(Storage.withDefaults(), archiveRoot);
        await("a review in the archive for each flag")
            .atMost(WAIT)
            .until(
                () -> {
                  for (DriftFlag f : flags.values()) {
                    if (archive
                        .reportFile(f.model(), f.version(), ReviewPublisher.COMMENT)
                        .isEmpty()) {
                      return false;
                    }
                  }
                  return true;
                });
        return new Observed(
            flags,
            monitored,
            archiveRoot,
            // the run's folder as URIs name it: file:///tmp/... and file:/tmp/...
            List.of(work.toUri().toString(), "file:" + work.toAbsolutePath() + "/"),
            promotion,
            promoted,
            progress.get(),
            resultsByWorker(reader.with(common), flags));
      } finally {
        if (notifier != null) {
          notifier.close(Duration.ofSeconds(10));
        }
        for (WorkerRole worker : started) {
          worker.close(Duration.ofSeconds(10));
        }
        dispatcher.close(Duration.ofSeconds(10));
      }
    }

    /** The demo's events, by step: its embedding, causal LM and search models, and a bad digest. */
    private Map<String, StagedWeightEvent> steps() {
      Map<String, StagedWeightEvent> steps = new LinkedHashMap<>();
      steps.put("embedding-fp32", embedding("fp32", inputs.fp32(), 32));
      steps.put("embedding-int8", embedding("int8", inputs.int8(), 8));
      steps.put("lm-base", causal("base", inputs.lmBase()).build());
      steps.put(
          "lm-finetuned",
          causal("finetuned-on-code", inputs.lmTuned()).changeKind(ChangeKind.RETRAIN).build());
      steps.put(
          "search-fp32",
          event("minilm-search", "fp32", Task.RETRIEVAL, inputs.fp32(), inputs.retrieval())
              .maxSeqLen(256)
              .build());
      steps.put(
          "bad-digest",
          embedding(
              "int8-tampered",
              new DemoAssets.ModelFiles(
                  new ArtifactRef(inputs.int8().onnx().uri(), "0".repeat(64)),
                  inputs.int8().tokenizer()),
              8));
      return steps;
    }

    private StagedWeightEvent embedding(String version, DemoAssets.ModelFiles model, int bits) {
      return event("all-minilm-l6-v2", version, Task.EMBEDDING, model, inputs.golden())
          .quantizationBits(bits)
          .maxSeqLen(256)
          .build();
    }

    private StagedWeightEvent.Builder causal(String version, DemoAssets.ModelFiles model) {
      return event("bytegpt", version, Task.CAUSAL_LM, model, inputs.heldout())
          .quantizationBits(32)
          .maxSeqLen(DemoAssets.CAUSAL_CONTEXT)
          .stride(DemoAssets.CAUSAL_CONTEXT / 2);
    }

    private static StagedWeightEvent.Builder event(
        String model, String version, Task task, DemoAssets.ModelFiles files, SubsetRef subset) {
      return StagedWeightEvent.builder()
          .eventId(model + "-" + version)
          .model(model)
          .version(version)
          .task(task)
          .artifact(files.onnx())
          .tokenizer(files.tokenizer())
          .goldenSubset(subset)
          .baseline(StagedWeightEvent.PRODUCTION)
          .hardwareProfile("cpu")
          .createdAt(Instant.now());
    }

    /** Hourly windows of the support traffic against its first six hours, as the monitor demo. */
    private MonitorSpec monitorSpec() {
      MonitorSpec spec =
          MonitorSpec.builder()
              .model("support-embedder")
              .version("prod-1")
              .artifact(inputs.fp32().onnx())
              .tokenizer(inputs.fp32().tokenizer())
              .traffic(new MonitorSpec.Traffic(inputs.traffic(), "message", "ts"))
              .window(Duration.ofHours(1))
              .sample(40)
              .referenceStart(TRAFFIC_START)
              .referenceEnd(TRAFFIC_START.plus(Duration.ofHours(6)))
              .interval(Duration.ofHours(1))
              .alpha(0.05)
              .permutations(199)
              .seed(7)
              .build();
      assertThat(spec.problems()).isEmpty();
      return spec;
    }

    /**
     * {@code evalfleet baseline promote --model all-minilm-l6-v2 --version int8}: the GREEN int8
     * version becomes the production baseline; returns the production version read back.
     */
    private static String promoteAsReleaseManager(FleetConfig config) throws Exception {
      EvaluationArchive archive =
          new EvaluationArchive(Storage.of(config), config.get(FleetConfig.ARCHIVE_ROOT));
      try (KafkaProducer<String, byte[]> producer =
          KafkaClients.producer(config, "evalfleet-baseline-cli")) {
        new Promotion(archive, baselines(config, producer), Clock.systemUTC())
            .apply("all-minilm-l6-v2", "int8", true, false);
        return baselines(config, producer)
            .production("all-minilm-l6-v2")
            .map(BaselineRecord::version)
            .orElseThrow();
      }
    }

    private static BaselineStore baselines(
        FleetConfig config, KafkaProducer<String, byte[]> producer) {
      BaselineStore store = new BaselineStore(producer);
      try (KafkaConsumer<String, byte[]> reader =
          KafkaClients.reader(config, "evalfleet-baseline-cli")) {
        store.load(reader, Duration.ofSeconds(30));
      }
      return store;
    }

    /** A promotion service: its own consumer group on the flags, offsets committed. */
    private static Set<String> readAsPromotionService(
        FleetConfig config, Map<String, DriftFlag> expected) {
      Set<String> eventIds = new LinkedHashSet<>();
      Set<String> wanted = new LinkedHashSet<>();
      expected.values().forEach(f -> wanted.add(f.eventId()));
      Set<String> steps = new LinkedHashSet<>();
      try (KafkaConsumer<String, byte[]> consumer =
          KafkaClients.consumer(config, Groups.PROMOTION + "-it", "promotion-reader", 100)) {
        consumer.subscribe(List.of(Topics.DRIFT_FLAGS));
        Instant deadline = Instant.now().plus(WAIT);
        while (!eventIds.containsAll(wanted) && Instant.now().isBefore(deadline)) {
          for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
            eventIds.add(Json.read(record.value(), DriftFlag.class).eventId());
          }
          consumer.commitSync();
        }
      }
      expected.forEach(
          (step, flag) -> {
            if (eventIds.contains(flag.eventId())) {
              steps.add(step);
            }
          });
      return steps;
    }

    /** How many shard results of the scenario's runs each worker published. */
    private static Map<String, Integer> resultsByWorker(
        FleetConfig reader, Map<String, DriftFlag> flags) {
      Set<String> runs = new LinkedHashSet<>();
      flags.values().forEach(f -> runs.add(f.runId()));
      Map<String, Integer> byWorker = new java.util.TreeMap<>();
      try (KafkaConsumer<String, byte[]> consumer = KafkaClients.reader(reader, "results-reader")) {
        List<TopicPartition> partitions =
            consumer.partitionsFor(Topics.RESULTS, Duration.ofSeconds(30)).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition()))
                .toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
        while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
          for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
            ShardResult result;
            try {
              result = Json.read(record.value(), ShardResult.class);
            } catch (RuntimeException e) {
              continue; // not a shard result (the dispatcher's own records on this topic)
            }
            if (result.workerId() != null && runs.contains(result.runId())) {
              byWorker.merge(result.workerId(), 1, Integer::sum);
            }
          }
        }
      }
      return byWorker;
    }
  }

  /**
   * Every log event of this JVM from its attachment on, as text with its stack trace: what an
   * operator's log collector would receive from the in-process roles and clients.
   */
  static final class LogCapture extends AppenderBase<ILoggingEvent> {
    private final List<String> lines = Collections.synchronizedList(new ArrayList<>());
    private final Map<Logger, Level> levels = new HashMap<>();

    static LogCapture attach() {
      LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
      LogCapture capture = new LogCapture();
      capture.setContext(context);
      capture.setName("secret-check");
      capture.start();
      context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(capture);
      return capture;
    }

    /** The Kafka clients' INFO lines too: each client logs its configuration at start. */
    void kafkaClientsAtInfo() {
      LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
      for (String name : List.of("org.apache.kafka", "kafka")) {
        Logger logger = context.getLogger(name);
        levels.putIfAbsent(logger, logger.getLevel());
        logger.setLevel(Level.INFO);
      }
    }

    List<String> lines() {
      synchronized (lines) {
        return List.copyOf(lines);
      }
    }

    void detach() {
      LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
      context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(this);
      levels.forEach(Logger::setLevel);
      levels.clear();
      stop();
    }

    @Override
    protected void append(ILoggingEvent event) {
      String line = event.getLoggerName() + " " + event.getFormattedMessage();
      if (event.getThrowableProxy() != null) {
        line += "\n" + ThrowableProxyUtil.asString(event.getThrowableProxy());
      }
      lines.add(line);
    }
  }
}
