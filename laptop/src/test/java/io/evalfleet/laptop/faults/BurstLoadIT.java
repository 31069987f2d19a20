package io.evalfleet.laptop.faults;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.StagedWeightEvent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A burst of 300 staged events on two workers with a small fixed heap: every event gets exactly one
 * flag, and the workers' memory stays bounded (the figures are printed for the record).
 */
class BurstLoadIT {
  private static final int EVENTS = 300;
  private static final String WORKER_HEAP = "256m";
  private static final Pattern PEAK_HEAP = Pattern.compile("stopped: peak heap (\\d+) MiB");

  @TempDir Path dir;

  @Test
  void burstOf300EventsGetsOneFlagEachWithWorkerHeapBounded() throws Exception {
    try (FleetHarness fleet = FleetHarness.start(dir, 4)) {
      fleet.dispatcher("dispatcher");
      List<FleetProcess> workers =
          List.of(fleet.worker("worker-a", WORKER_HEAP), fleet.worker("worker-b", WORKER_HEAP));
      long started = System.nanoTime();
      List<StagedWeightEvent> events = fleet.stage("burst", EVENTS, 16);
      long staged = System.nanoTime();

      Map<String, DriftFlag> flags = fleet.awaitExactlyOneFlagEach(events, Duration.ofMinutes(10));
      double seconds = (System.nanoTime() - started) / 1e9;
      Map<Flag, Long> byFlag =
          flags.values().stream()
              .collect(Collectors.groupingBy(DriftFlag::flag, Collectors.counting()));
      assertThat(byFlag)
          .as("one version pinned as baseline, the identical others GREEN")
          .isEqualTo(Map.of(Flag.WARN, 1L, Flag.GREEN, (long) EVENTS - 1));

      StringBuilder memory = new StringBuilder();
      for (FleetProcess worker : workers) {
        long rss = worker.peakRssBytes();
        worker.stop(Duration.ofSeconds(60));
        List<String> heap = worker.logMatches(PEAK_HEAP);
        assertThat(heap).as("%s reports its peak heap on exit", worker.name()).hasSize(1);
        assertThat(Long.parseLong(heap.get(0))).as("peak heap MiB").isLessThanOrEqualTo(256);
        memory.append(
            String.format(
                " %s peak heap %s MiB (-Xmx%s), peak RSS %d MiB;",
                worker.name(), heap.get(0), WORKER_HEAP, rss / (1024 * 1024)));
      }
      System.out.printf(
          "burst of %d events: staged in %.1f s, all flagged in %.1f s (%.1f events/s);%s%n",
          EVENTS, (staged - started) / 1e9, seconds, EVENTS / seconds, memory);
    }
  }
}
