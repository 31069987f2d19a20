package io.evalfleet.laptop;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.MonitorResult;
import io.evalfleet.common.contract.RetrainRequest;
import io.evalfleet.laptop.demo.DemoAssets;
import io.evalfleet.laptop.demo.SupportTraffic;
import io.evalfleet.laptop.embedded.LocalFleet;
import io.evalfleet.monitor.MonitorRole;
import io.evalfleet.monitor.MonitorSpec;
import io.evalfleet.monitor.retrain.RetrainLedger;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The monitor on a synthetic traffic log with a shift injected at a known hour, all-MiniLM-L6-v2 as
 * the production model, hourly windows against the first six hours: the shift is caught in the
 * first window after it, undrifted windows alarm at about the configured rate, and each retraining
 * cause (the drift episode, each expired cadence period) is published once, across a restart.
 */
class MonitorIT {
  static final Instant START = Instant.parse("2026-11-01T00:00:00Z");
  static final int HOURS = 130;
  static final int SHIFT_HOUR = 120;
  static final double ALPHA = 0.05;

  @TempDir static Path dir;
  static LocalFleet fleet;
  static DemoAssets.ModelFiles model;
  static String traffic;

  @BeforeAll
  static void setUp() throws Exception {
    model = new DemoAssets(dir).model(DemoAssets.Model.MINILM_FP32);
    traffic = SupportTraffic.write(dir.resolve("traffic"), START, HOURS, SHIFT_HOUR, 3);
    fleet =
        LocalFleet.start(
            FleetConfig.defaults()
                .with(
                    Map.of(
                        FleetConfig.ARCHIVE_ROOT.key(),
                        dir.resolve("archive").toUri().toString(),
                        FleetConfig.INTRA_OP_THREADS.key(),
                        "2")),
            0,
            dir.resolve("cache"));
  }

  @AfterAll
  static void tearDown() throws Exception {
    if (fleet != null) {
      fleet.close();
    }
  }

  static MonitorSpec spec() {
    return MonitorSpec.builder()
        .model("support-embedder")
        .version("prod-1")
        .artifact(model.onnx())
        .tokenizer(model.tokenizer())
        .traffic(new MonitorSpec.Traffic(traffic, "message", "ts"))
        .window(Duration.ofHours(1))
        .sample(40)
        .referenceStart(START)
        .referenceEnd(START.plus(Duration.ofHours(6)))
        .interval(Duration.ofHours(1))
        .alpha(ALPHA)
        .permutations(199)
        .seed(7)
        .retrainCadence(Duration.ofDays(2))
        .retrainSince(START)
        .subset("support-chat")
        .build();
  }

  static Instant hour(int hour) {
    return START.plus(Duration.ofHours(hour));
  }

  @Test
  void anInjectedShiftIsCaughtAtOnceFalseAlarmsStayNearAlphaAndEachCauseIsRequestedOnce()
      throws Exception {
    List<MonitorResult> results = new ArrayList<>();
    MonitorSpec spec = spec();
    assertThat(spec.problems()).isEmpty();
    try (MonitorRole monitor =
        new MonitorRole(
            fleet.config(),
            spec,
            dir.resolve("cache"),
            new SimpleMeterRegistry(),
            Clock.systemUTC())) {
      for (int hour = 7; hour <= 127; hour++) {
        results.add(monitor.checkAt(hour(hour)));
      }
    }
    long unshifted = results.stream().filter(r -> !r.windowEnd().isAfter(hour(SHIFT_HOUR))).count();
    long falseAlarms =
        results.stream()
            .filter(r -> !r.windowEnd().isAfter(hour(SHIFT_HOUR)) && r.drifted())
            .count();
    double rate = (double) falseAlarms / unshifted;
    MonitorResult firstAfter =
        results.stream()
            .filter(r -> r.windowEnd().equals(hour(SHIFT_HOUR + 1)))
            .findFirst()
            .orElseThrow();
    System.out.printf(
        "false alarms: %d of %d undrifted windows (%.3f, alpha %.2f); first window after the shift:"
            + " p=%.4f%n",
        falseAlarms, unshifted, rate, ALPHA, firstAfter.pValue());
    assertThat(rate).isLessThanOrEqualTo(ALPHA + 3 * Math.sqrt(ALPHA * (1 - ALPHA) / unshifted));
    assertThat(firstAfter.drifted()).as("detected in the first window after the shift").isTrue();
    assertThat(results.stream().filter(r -> r.windowEnd().isAfter(hour(SHIFT_HOUR))))
        .allMatch(MonitorResult::drifted);

    // A restarted monitor checks the last hours again, and more: no cause is requested twice.
    try (MonitorRole monitor =
        new MonitorRole(
            fleet.config(),
            spec,
            dir.resolve("cache"),
            new SimpleMeterRegistry(),
            Clock.systemUTC())) {
      for (int hour = 125; hour <= 129; hour++) {
        monitor.checkAt(hour(hour));
      }
    }
    List<RetrainRequest> requests = RetrainLedger.read(fleet.config());
    System.out.println(
        "retraining requests: " + requests.stream().map(RetrainRequest::causeId).toList());
    assertThat(requests)
        .extracting(RetrainRequest::causeId)
        .doesNotHaveDuplicates()
        .contains(
            "support-embedder:drift:" + hour(SHIFT_HOUR + 1),
            "support-embedder:cadence:1",
            "support-embedder:cadence:2");
    // One drift cause per drift episode: false alarms before the shift are episodes of their own.
    long driftCauses = requests.stream().filter(r -> r.cause().equals("drift")).count();
    long episodes =
        results.stream()
            .filter(MonitorResult::drifted)
            .map(MonitorResult::episodeStart)
            .distinct()
            .count();
    assertThat(driftCauses).isEqualTo(episodes);
    assertThat(requests)
        .filteredOn(r -> r.cause().equals("drift") && r.windowEnd().equals(hour(SHIFT_HOUR + 1)))
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.subset()).isEqualTo("support-chat");
              assertThat(r.metrics()).containsKeys("mmd2", "p_value", "alpha");
            });
  }

  /**
   * A byte-level GPT trained on English as the production model, its fine-tune on code in shadow:
   * from hour 20 half the traffic is code, so perplexity on the traffic rises against the
   * reference.
   */
  @Test
  void aCausalLmsPerplexityOnShiftedTrafficIsCaughtAndItsShadowCandidatesShiftIsReported()
      throws Exception {
    DemoAssets assets = new DemoAssets(dir);
    DemoAssets.ModelFiles base = assets.causalModel(DemoAssets.CausalModel.BYTEGPT_BASE);
    DemoAssets.ModelFiles tuned = assets.causalModel(DemoAssets.CausalModel.BYTEGPT_FINETUNED);
    List<String> english =
        java.nio.file.Files.readAllLines(Path.of("..", "fixtures", "causal-lm", "heldout.txt"))
            .stream()
            .filter(line -> !line.isBlank())
            .toList();
    List<String> code =
        List.of(
            "for (int i = 0; i < n; i++) { sum += values[i]; }",
            "return a.compareTo(b) < 0 ? a : b;",
            "if (x == null) throw new IllegalArgumentException(\"x\");",
            "def mean(xs): return sum(xs) / len(xs)",
            "while (it.hasNext()) { out.add(it.next()); }",
            "import java.util.List;",
            "x = [i * i for i in range(10)]",
            "map.computeIfAbsent(key, k -> new ArrayList<>()).add(v);");
    String lmTraffic =
        SupportTraffic.write(
            dir.resolve("lm-traffic"),
            START,
            30,
            20,
            5,
            (random, shifted) ->
                shifted && random.nextBoolean()
                    ? code.get(random.nextInt(code.size()))
                    : english.get(random.nextInt(english.size())));
    MonitorSpec spec =
        MonitorSpec.builder()
            .model("chat-lm")
            .version("prod-1")
            .artifact(base.onnx())
            .tokenizer(base.tokenizer())
            .traffic(new MonitorSpec.Traffic(lmTraffic, "message", "ts"))
            .window(Duration.ofHours(1))
            .sample(30)
            .referenceStart(START)
            .referenceEnd(START.plus(Duration.ofHours(6)))
            .interval(Duration.ofHours(1))
            .alpha(ALPHA)
            .permutations(199)
            .seed(7)
            .task(io.evalfleet.common.task.Task.CAUSAL_LM)
            .maxSeqLen(DemoAssets.CAUSAL_CONTEXT)
            .shadow(tuned.onnx())
            .build();
    assertThat(spec.problems()).isEmpty();
    List<MonitorResult> results = new ArrayList<>();
    try (MonitorRole monitor =
        new MonitorRole(
            fleet.config(),
            spec,
            dir.resolve("cache"),
            new SimpleMeterRegistry(),
            Clock.systemUTC())) {
      for (int hour = 7; hour <= 24; hour++) {
        results.add(monitor.checkAt(hour(hour)));
      }
    }
    MonitorResult firstAfter =
        results.stream().filter(r -> r.windowEnd().equals(hour(21))).findFirst().orElseThrow();
    System.out.println("causal LM, first window after the shift: " + firstAfter.evidence());
    assertThat(firstAfter.drifted()).isTrue();
    assertThat(firstAfter.perplexity()).isGreaterThan(firstAfter.referencePerplexity());
    assertThat(firstAfter.mmd2()).isNull();
    assertThat(firstAfter.shadow()).containsKeys("kl_mean", "kl_p99", "top1_agreement");
    assertThat(firstAfter.shadow().get("kl_mean")).isPositive();
    assertThat(firstAfter.shadow().get("top1_agreement")).isLessThan(1.0);
    long falseAlarms =
        results.stream().filter(r -> !r.windowEnd().isAfter(hour(20)) && r.drifted()).count();
    assertThat(falseAlarms)
        .as("false alarms in 14 undrifted windows at alpha 0.05")
        .isLessThanOrEqualTo(3);
  }

  /** The operators' artifact, built by the cli module. */
  static final Path DEPLOYABLE = Path.of("..", "cli", "target").toAbsolutePath().normalize();

  /**
   * {@code evalfleet monitor --at}, as a person runs it (the deployable, in its own JVM): standard
   * output holds the check's evidence and nothing else, the log goes to its file, and the result is
   * archived under the window's end.
   */
  @Test
  void monitorAtPrintsOnlyItsResultAndArchivesItUnderTheWindowEnd() throws Exception {
    Path spec = dir.resolve("monitor-at-spec.json");
    java.nio.file.Files.write(
        spec, io.evalfleet.common.contract.Json.mapper().writeValueAsBytes(spec()));
    Path stdout = dir.resolve("monitor-at.stdout");
    Path stderr = dir.resolve("monitor-at.stderr");
    Path log = dir.resolve("monitor-at.log");
    Process process =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                DEPLOYABLE.resolve("evalfleet.jar")
                    + java.io.File.pathSeparator
                    + DEPLOYABLE.resolve("lib")
                    + "/*",
                "io.evalfleet.cli.Evalfleet",
                "monitor",
                "--spec",
                spec.toString(),
                "--at",
                hour(9).toString(),
                "--cache-dir",
                dir.resolve("monitor-at-cache").toString(),
                "--log-file",
                log.toString(),
                "-b",
                fleet.bootstrapServers(),
                "-D",
                FleetConfig.ARCHIVE_ROOT.key() + "=" + dir.resolve("archive").toUri())
            .directory(dir.toFile())
            .redirectOutput(stdout.toFile())
            .redirectError(stderr.toFile())
            .start();
    assertThat(process.waitFor(3, java.util.concurrent.TimeUnit.MINUTES))
        .as("monitor --at finished")
        .isTrue();
    String crash;
    try (var files = java.nio.file.Files.list(dir)) {
      crash =
          files
              .filter(f -> f.getFileName().toString().startsWith("hs_err"))
              .findFirst()
              .map(
                  f -> {
                    try {
                      return java.nio.file.Files.readString(f).substring(0, 3000);
                    } catch (Exception e) {
                      return "";
                    }
                  })
              .orElse("");
    }
    String logText = java.nio.file.Files.exists(log) ? java.nio.file.Files.readString(log) : "";
    assertThat(process.exitValue())
        .as(
            "stdout: %s%nstderr: %s%n%s%nlog: %s",
            java.nio.file.Files.readString(stdout),
            java.nio.file.Files.readString(stderr),
            crash,
            logText.substring(Math.max(0, logText.length() - 4000)))
        .isIn(0, 1);

    List<String> printed = java.nio.file.Files.readAllLines(stdout);
    MonitorResult archived =
        new io.evalfleet.common.archive.EvaluationArchive(
                io.evalfleet.common.storage.Storage.withDefaults(),
                dir.resolve("archive").toUri().toString())
            .monitorHistory("support-embedder").stream()
                .filter(r -> r.windowEnd().equals(hour(9)))
                .findFirst()
                .orElseThrow();
    assertThat(printed).as("standard output of monitor --at").containsExactly(archived.evidence());
    assertThat(java.nio.file.Files.readString(log)).as("the log file").isNotBlank();
    assertThat(dir.resolve("archive/monitor/support-embedder/20261101T090000Z.json")).exists();
    System.out.printf(
        "monitor --at: stdout %s; stderr %d lines; log %d lines%n",
        printed,
        java.nio.file.Files.readAllLines(stderr).size(),
        java.nio.file.Files.readAllLines(log).size());
  }
}
