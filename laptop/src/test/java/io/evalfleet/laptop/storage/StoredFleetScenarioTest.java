package io.evalfleet.laptop.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.MetricValue;
import io.evalfleet.common.contract.MonitorResult;
import io.evalfleet.laptop.storage.StoredFleetScenario.Observed;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What two runs of the scenario are compared by. */
class StoredFleetScenarioTest {
  static final double SPEARMAN = 0.8123456789012345;

  @Test
  void aMetricOneUlpApartIsADifference() {
    Map<String, String> seen =
        observed("hdfs://nn:8020/", SPEARMAN).comparable(List.of("hdfs://nn:8020/"));
    assertThat(
            observed("hdfs://nn:8020/", Math.nextUp(SPEARMAN))
                .comparable(List.of("hdfs://nn:8020/")))
        .isNotEqualTo(seen);
    assertThat(seen.get("embedding")).contains(Double.toString(SPEARMAN));
  }

  @Test
  void idsTimesAndTheStoresLocationAreLeftOut() {
    Observed onFiles = observed("file:/tmp/store/", SPEARMAN);
    Observed onHdfs = observed("hdfs://nn:8020/", SPEARMAN);
    assertThat(onHdfs.comparable(List.of("hdfs://nn:8020/")))
        .isEqualTo(onFiles.comparable(List.of("file:/tmp/store/")));
    assertThat(onHdfs.comparable(List.of("hdfs://nn:8020/")).get("embedding"))
        .contains("<store>/archive/locks/m/v2.lock.json")
        .doesNotContain("run_id")
        .doesNotContain("decided_at");
  }

  /** A run on the store at {@code root}, its ids and times its own. */
  static Observed observed(String root, double spearman) {
    Instant now = Instant.now();
    DriftFlag flag =
        DriftFlag.builder()
            .runId("run-" + System.nanoTime())
            .eventId("event-" + System.nanoTime())
            .model("m")
            .version("v2")
            .baselineVersion("v1")
            .flag(Flag.GREEN)
            .metrics(Map.of("spearman", MetricValue.alone(spearman, 48, "higher_is_better")))
            .reasons(List.of("scores reused: " + root + "archive/scores/a.parquet"))
            .stagedAt(now)
            .decidedAt(now.plusMillis(1))
            .durationMs(System.nanoTime() % 1000)
            .lockfile(root + "archive/locks/m/v2.lock.json")
            .build();
    LinkedHashMap<String, DriftFlag> flags = new LinkedHashMap<>();
    flags.put("embedding", flag);
    MonitorResult monitor =
        MonitorResult.builder()
            .model("m")
            .windowEnd(Instant.parse("2026-11-01T08:00:00Z"))
            .pValue(0.005)
            .evaluatedAt(now)
            .build();
    return new Observed(flags, monitor, root + "archive", List.of(), Duration.ZERO);
  }
}
