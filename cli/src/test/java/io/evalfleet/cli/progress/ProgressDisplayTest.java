package io.evalfleet.cli.progress;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.RunProgress;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ProgressDisplayTest {
  private static RunProgress progress(String run, int shards, long rows, double rate) {
    return RunProgress.builder()
        .schemaVersion(1)
        .runId(run)
        .eventId("ev-" + run)
        .model("m")
        .version("v1")
        .shardsDone(shards)
        .shardsTotal(10)
        .rowsScored(rows)
        .rowsTotal(1000)
        .rowsPerSecond(rate)
        .stagedAt(Instant.EPOCH)
        .at(Instant.EPOCH)
        .build();
  }

  @Test
  void plainLinesShowEachChangeOnceWithTheTimeLeftAtTheDispatchersRate() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ProgressDisplay lines =
        ProgressDisplay.lines(new PrintStream(out, true, StandardCharsets.UTF_8))) {
      lines.show(progress("r", 0, 0, 0));
      lines.show(progress("r", 2, 200, 100));
      lines.show(progress("r", 2, 200, 100)); // nothing moved
      lines.show(progress("r", 10, 1000, 100));
      lines.finish("r");
      lines.show(progress("r", 10, 1000, 100)); // read after the flag
    }
    assertThat(out.toString(StandardCharsets.UTF_8).lines().toList())
        .containsExactly(
            "progress m v1: 0/1,000 rows (0%) · 0/10 shards · 0 rows/s",
            "progress m v1: 200/1,000 rows (20%) · 2/10 shards · 100 rows/s · ETA 8 s",
            "progress m v1: 1,000/1,000 rows (100%) · 10/10 shards · 100 rows/s · ETA 0 s");
  }

  @Test
  void barsRedrawInPlace() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ProgressDisplay bars =
        ProgressDisplay.bars(new PrintStream(out, true, StandardCharsets.UTF_8))) {
      bars.show(progress("r", 5, 500, 250));
      bars.finish("r");
    }
    String drawn = out.toString(StandardCharsets.UTF_8);
    assertThat(drawn).contains("\r", "m v1", "100%", "5/10 shards · 250 rows/s · ETA 2 s");
  }

  @Test
  void theTimeLeftIsUnknownWithoutARate() {
    assertThat(progress("r", 1, 10, 0).etaSeconds()).isEmpty();
    assertThat(progress("r", 1, 10, 99).etaSeconds()).hasValue(10);
    assertThat(progress("r", 1, 10, 100).etaSeconds()).hasValue(10); // 9.9 s, rounded up
  }
}
