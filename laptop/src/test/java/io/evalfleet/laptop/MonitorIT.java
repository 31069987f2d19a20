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
        Duration.ofHours(1), null, ALPHA, 199, 7, Duration.ofDays(2), START, "support-chat");
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
    List<RetrainRequest> requests = MonitorRequests.read(fleet.config());
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
}
