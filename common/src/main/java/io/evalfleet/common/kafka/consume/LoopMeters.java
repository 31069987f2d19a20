package io.evalfleet.common.kafka.consume;

import io.evalfleet.common.metrics.FleetMeter;

/**
 * The catalogue entries under which a {@link CommitSafeLoop} reports itself; each may be null, and
 * then that meter is not registered.
 *
 * @param inFlight gauge of the records handed out and not finished
 * @param assigned gauge of the partitions assigned
 * @param paused gauge of the partitions paused for back-pressure
 * @param rebalances counter of rebalance callbacks, tagged {@code kind} = assigned, revoked or lost
 */
public record LoopMeters(
    FleetMeter inFlight, FleetMeter assigned, FleetMeter paused, FleetMeter rebalances) {
  /** A loop that registers no meter of its own (its role counts what matters elsewhere). */
  public static LoopMeters none() {
    return new LoopMeters(null, null, null, null);
  }
}
