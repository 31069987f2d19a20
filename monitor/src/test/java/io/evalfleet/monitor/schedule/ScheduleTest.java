package io.evalfleet.monitor.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ScheduleTest {
  @Test
  void intervalsLineUpOnMultiplesSinceTheEpoch() {
    Schedule hourly = Schedule.every(Duration.ofHours(1));
    assertThat(hourly.next(Instant.parse("2026-12-01T10:17:00Z")))
        .isEqualTo(Instant.parse("2026-12-01T11:00:00Z"));
    assertThat(hourly.next(Instant.parse("2026-12-01T11:00:00Z")))
        .isEqualTo(Instant.parse("2026-12-01T12:00:00Z"));
  }

  @Test
  void cronExpressionsAreUnixCronInUtc() {
    Schedule weekdaysAtSix = Schedule.cron("0 6 * * 1-5");
    // 2026-12-04 is a Friday: the next run after Friday 07:00 is Monday 06:00.
    assertThat(weekdaysAtSix.next(Instant.parse("2026-12-04T07:00:00Z")))
        .isEqualTo(Instant.parse("2026-12-07T06:00:00Z"));
    assertThatThrownBy(() -> Schedule.cron("every hour"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("'every hour' is not a Unix cron expression");
  }
}
