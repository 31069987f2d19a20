package io.evalfleet.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ContiguousOffsetsTest {
  @Test
  void commitsOnlyTheContiguousCompletedPrefix() {
    ContiguousOffsets offsets = new ContiguousOffsets();
    offsets.started(10);
    offsets.started(11);
    offsets.started(12);
    offsets.completed(12);
    assertThat(offsets.advance()).as("12 done but 10 still running").isEqualTo(-1);
    offsets.completed(10);
    assertThat(offsets.advance()).isEqualTo(11);
    assertThat(offsets.advance()).as("nothing new").isEqualTo(-1);
    offsets.completed(11);
    assertThat(offsets.advance()).isEqualTo(13);
    assertThat(offsets.inFlight()).isZero();
  }

  @Test
  void ignoresCompletionsOfOffsetsItNeverHandedOut() {
    ContiguousOffsets offsets = new ContiguousOffsets();
    offsets.started(5);
    offsets.completed(4);
    assertThat(offsets.advance()).isEqualTo(-1);
    assertThat(offsets.inFlight()).isEqualTo(1);
  }
}
