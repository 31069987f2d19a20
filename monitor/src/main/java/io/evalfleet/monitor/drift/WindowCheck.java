package io.evalfleet.monitor.drift;

import io.evalfleet.common.contract.MonitorResult;
import java.io.IOException;
import java.time.Instant;

/** One scheduled check of a production model on the traffic window ending at a given time. */
public interface WindowCheck {
  /**
   * @param windowEnd the check time: the window ends there
   * @param previous the check before, or null: a drifted window continues its drift episode
   */
  MonitorResult check(Instant windowEnd, MonitorResult previous, Instant now) throws IOException;

  /**
   * Where a window's drift episode starts: the previous window's episode if it drifted too, else
   * this window.
   */
  static Instant episodeStart(boolean drifted, MonitorResult previous, Instant windowEnd) {
    if (!drifted) {
      return null;
    }
    return previous != null && previous.drifted() && previous.episodeStart() != null
        ? previous.episodeStart()
        : windowEnd;
  }
}
