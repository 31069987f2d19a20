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
    fleet = LocalFleet.start(FleetConfig.defaults().with(Map.of(
        FleetConfig.ARCHIVE_ROOT.key(), dir.resolve("archive").toUri().toString(),
        FleetConfig.INTRA_OP_THREADS.key(), "2")), 0, dir.resolve("cache"));
  }

  @AfterAll
  static void tearDown() throws Exception {
    if (fleet != null) {
      fleet.close();
    }
  }

  static MonitorSpec spec() {
    return new MonitorSpec("support-embedder", "prod-1", model.onnx(), model.tokenizer(), null,
        new MonitorSpec.Traffic(traffic, "message", "ts"), Duration.ofHours(1), 40, START, START.plus(Duration.ofHours(6)),
        Duration.ofHours(1), null, ALPHA, 199, 7, Duration.ofDays(2), START, "support-chat", null, null, null);
  }

  static Instant hour(int hour) {
    return START.plus(Duration.ofHours(hour));
  }

  @Test
  void anInjectedShiftIsCaughtAtOnceFalseAlarmsStayNearAlphaAndEachCauseIsRequestedOnce() throws Exception {
    List<MonitorResult> results = new ArrayList<>();
    MonitorSpec spec = spec();
    assertThat(spec.problems()).isEmpty();
    try (MonitorRole monitor = new MonitorRole(fleet.config(), spec, dir.resolve("cache"), new SimpleMeterRegistry(),
        Clock.systemUTC())) {
      for (int hour = 7; hour <= 127; hour++) {
        results.add(monitor.checkAt(hour(hour)));
      }
    }
    long unshifted = results.stream().filter(r -> !r.windowEnd().isAfter(hour(SHIFT_HOUR))).count();
    long falseAlarms = results.stream().filter(r -> !r.windowEnd().isAfter(hour(SHIFT_HOUR)) && r.drifted()).count();
    double rate = (double) falseAlarms / unshifted;
    MonitorResult firstAfter = results.stream().filter(r -> r.windowEnd().equals(hour(SHIFT_HOUR + 1))).findFirst()
        .orElseThrow();
    System.out.printf("false alarms: %d of %d undrifted windows (%.3f, alpha %.2f); first window after the shift:"
        + " p=%.4f%n", falseAlarms, unshifted, rate, ALPHA, firstAfter.pValue());
    assertThat(rate).isLessThanOrEqualTo(ALPHA + 3 * Math.sqrt(ALPHA * (1 - ALPHA) / unshifted));
    assertThat(firstAfter.drifted()).as("detected in the first window after the shift").isTrue();
    assertThat(results.stream().filter(r -> r.windowEnd().isAfter(hour(SHIFT_HOUR)))).allMatch(MonitorResult::drifted);

    // A restarted monitor checks the last hours again, and more: no cause is requested twice.
    try (MonitorRole monitor = new MonitorRole(fleet.config(), spec, dir.resolve("cache"), new SimpleMeterRegistry(),
        Clock.systemUTC())) {
      for (int hour = 125; hour <= 129; hour++) {
        monitor.checkAt(hour(hour));
      }
    }
    List<RetrainRequest> requests = RetrainLedger.read(fleet.config());
    System.out.println("retraining requests: " + requests.stream().map(RetrainRequest::causeId).toList());
    assertThat(requests).extracting(RetrainRequest::causeId).doesNotHaveDuplicates()
        .contains("support-embedder:drift:" + hour(SHIFT_HOUR + 1), "support-embedder:cadence:1",
            "support-embedder:cadence:2");
    // One drift cause per drift episode: false alarms before the shift are episodes of their own.
    long driftCauses = requests.stream().filter(r -> r.cause().equals("drift")).count();
    long episodes = results.stream().filter(MonitorResult::drifted).map(MonitorResult::episodeStart).distinct().count();
    assertThat(driftCauses).isEqualTo(episodes);
    assertThat(requests).filteredOn(r -> r.cause().equals("drift") && r.windowEnd().equals(hour(SHIFT_HOUR + 1)))
        .singleElement().satisfies(r -> {
          assertThat(r.subset()).isEqualTo("support-chat");
          assertThat(r.metrics()).containsKeys("mmd2", "p_value", "alpha");
        });
  }

  /**
   * A byte-level GPT trained on English as the production model, its fine-tune on code in shadow:
   * from hour 20 half the traffic is code, so perplexity on the traffic rises against the reference.
   */
  @Test
  void aCausalLmsPerplexityOnShiftedTrafficIsCaughtAndItsShadowCandidatesShiftIsReported() throws Exception {
    DemoAssets assets = new DemoAssets(dir);
    DemoAssets.ModelFiles base = assets.causalModel(DemoAssets.CausalModel.BYTEGPT_BASE);
    DemoAssets.ModelFiles tuned = assets.causalModel(DemoAssets.CausalModel.BYTEGPT_FINETUNED);
    List<String> english = java.nio.file.Files.readAllLines(Path.of("..", "fixtures", "causal-lm", "heldout.txt"))
        .stream().filter(line -> !line.isBlank()).toList();
    List<String> code = List.of("for (int i = 0; i < n; i++) { sum += values[i]; }", "return a.compareTo(b) < 0 ? a : b;",
        "if (x == null) throw new IllegalArgumentException(\"x\");", "def mean(xs): return sum(xs) / len(xs)",
        "while (it.hasNext()) { out.add(it.next()); }", "import java.util.List;", "x = [i * i for i in range(10)]",
        "map.computeIfAbsent(key, k -> new ArrayList<>()).add(v);");
    String lmTraffic = SupportTraffic.write(dir.resolve("lm-traffic"), START, 30, 20, 5,
        (random, shifted) -> shifted && random.nextBoolean() ? code.get(random.nextInt(code.size()))
            : english.get(random.nextInt(english.size())));
    MonitorSpec spec = new MonitorSpec("chat-lm", "prod-1", base.onnx(), base.tokenizer(), null,
        new MonitorSpec.Traffic(lmTraffic, "message", "ts"), Duration.ofHours(1), 30, START, START.plus(Duration.ofHours(6)),
        Duration.ofHours(1), null, ALPHA, 199, 7, null, null, null, io.evalfleet.common.task.Task.CAUSAL_LM,
        DemoAssets.CAUSAL_CONTEXT, tuned.onnx());
    assertThat(spec.problems()).isEmpty();
    List<MonitorResult> results = new ArrayList<>();
    try (MonitorRole monitor = new MonitorRole(fleet.config(), spec, dir.resolve("cache"), new SimpleMeterRegistry(),
        Clock.systemUTC())) {
      for (int hour = 7; hour <= 24; hour++) {
        results.add(monitor.checkAt(hour(hour)));
      }
    }
    MonitorResult firstAfter = results.stream().filter(r -> r.windowEnd().equals(hour(21))).findFirst().orElseThrow();
    System.out.println("causal LM, first window after the shift: " + firstAfter.evidence());
    assertThat(firstAfter.drifted()).isTrue();
    assertThat(firstAfter.perplexity()).isGreaterThan(firstAfter.referencePerplexity());
    assertThat(firstAfter.mmd2()).isNull();
    assertThat(firstAfter.shadow()).containsKeys("kl_mean", "kl_p99", "top1_agreement");
    assertThat(firstAfter.shadow().get("kl_mean")).isPositive();
    assertThat(firstAfter.shadow().get("top1_agreement")).isLessThan(1.0);
    long falseAlarms = results.stream().filter(r -> !r.windowEnd().isAfter(hour(20)) && r.drifted()).count();
    assertThat(falseAlarms).as("false alarms in 14 undrifted windows at alpha 0.05").isLessThanOrEqualTo(3);
  }
}
