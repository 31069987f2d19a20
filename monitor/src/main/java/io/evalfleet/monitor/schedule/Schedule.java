package io.evalfleet.monitor.schedule;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;

/**
 * When the monitor checks: every {@code interval} (at multiples of it since the epoch, so that the
 * windows of any two monitor processes line up), or at the times of a Unix cron expression, in UTC.
 */
public final class Schedule {
  private final Duration interval;
  private final ExecutionTime cron;
  private final String description;

  private Schedule(Duration interval, ExecutionTime cron, String description) {
    this.interval = interval;
    this.cron = cron;
    this.description = description;
  }

  public static Schedule every(Duration interval) {
    if (interval == null || interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("a schedule interval must be positive, was " + interval);
    }
    return new Schedule(interval, null, "every " + interval);
  }

  /**
   * @throws IllegalArgumentException naming the expression when it is not a Unix cron expression
   */
  public static Schedule cron(String expression) {
    try {
      var parsed =
          new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX))
              .parse(expression);
      parsed.validate();
      return new Schedule(null, ExecutionTime.forCron(parsed), "cron '" + expression + "' (UTC)");
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "'" + expression + "' is not a Unix cron expression: " + e.getMessage(), e);
    }
  }

  /** The first check time strictly after {@code after}. */
  public Instant next(Instant after) {
    if (interval != null) {
      long step = interval.toMillis();
      return Instant.ofEpochMilli(Math.floorDiv(after.toEpochMilli(), step) * step + step);
    }
    return cron.nextExecution(after.atZone(ZoneOffset.UTC))
        .orElseThrow(() -> new IllegalStateException(description + " has no time after " + after))
        .toInstant();
  }

  @Override
  public String toString() {
    return description;
  }
}
