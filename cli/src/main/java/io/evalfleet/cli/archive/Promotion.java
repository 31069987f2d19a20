package io.evalfleet.cli.archive;

import io.evalfleet.common.archive.BaselineSnapshot;
import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.archive.EvaluationLock;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.dispatcher.baseline.BaselineRecord;
import io.evalfleet.dispatcher.baseline.BaselineStore;
import java.io.IOException;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;

/**
 * Makes an evaluated version the production baseline of its model: from its lockfile and archived
 * per-row scores, onto the compacted baselines topic, and into the baseline history. {@code pin}
 * takes any version that was evaluated; {@code promote} only one whose flag was GREEN, unless
 * forced.
 */
public final class Promotion {
  /** Why a version cannot become the baseline; the message says it in words. */
  public static final class Refused extends Exception {
    public Refused(String message) {
      super(message);
    }
  }

  /** What was done. */
  public record Outcome(
      BaselineRecord pinned, Optional<BaselineRecord> previous, String reason, boolean forced) {}

  private final EvaluationArchive archive;
  private final BaselineStore baselines;
  private final Clock clock;

  public Promotion(EvaluationArchive archive, BaselineStore baselines, Clock clock) {
    this.archive = archive;
    this.baselines = baselines;
    this.clock = clock;
  }

  /**
   * @param promote whether this is a promotion (GREEN required) rather than a pin
   * @param force promote a version whose flag was not GREEN
   */
  public Outcome apply(String model, String version, boolean promote, boolean force)
      throws Refused, IOException {
    EvaluationLock lock =
        archive
            .lock(model, version)
            .orElseThrow(
                () ->
                    new Refused(
                        "version "
                            + version
                            + " of model "
                            + model
                            + " has no lockfile at "
                            + archive.lockPath(model, version)
                            + ": only an evaluated version can become the baseline"));
    if (lock.flag() == Flag.ERROR || lock.flag() == Flag.INCOMPLETE) {
      throw new Refused(
          "version "
              + version
              + " of model "
              + model
              + " was flagged "
              + lock.flag()
              + ": it was not fully evaluated, so it cannot be the baseline");
    }
    boolean forced = false;
    if (promote && lock.flag() != Flag.GREEN) {
      if (!force) {
        throw new Refused(
            "version "
                + version
                + " of model "
                + model
                + " was flagged "
                + lock.flag()
                + ", not GREEN: promote it anyway with --force, or pin it");
      }
      forced = true;
    }
    if (lock.scores() == null) {
      throw new Refused("the lockfile of " + model + " " + version + " names no archived scores");
    }
    if (!archive.hasScores(lock.scores())) {
      throw new Refused(
          "the archived scores of " + model + " " + version + " are gone: " + lock.scores());
    }
    BaselineRecord record = BaselineRecord.of(lock, clock.instant());
    Map<String, Double> metrics = record.metrics();
    Optional<BaselineRecord> previous = baselines.production(model);
    baselines.pin(record);
    String reason = promote ? "promoted" : "pinned";
    archive.recordBaseline(
        new BaselineSnapshot(
            model,
            version,
            lock.commit(),
            lock.runId(),
            record.artifactSha256(),
            record.subsetSha256(),
            metrics,
            forced ? reason + " (forced from " + lock.flag() + ")" : reason,
            record.recordedAt()));
    return new Outcome(record, previous, reason, forced);
  }
}
