package io.evalfleet.cli.archive;

import io.evalfleet.common.archive.BaselineSnapshot;
import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.archive.EvaluationLock;
import io.evalfleet.common.contract.ContractViolation;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.signing.FlagVerifier;
import io.evalfleet.common.signing.SignedFlag;
import io.evalfleet.dispatcher.baseline.BaselineRecord;
import io.evalfleet.dispatcher.baseline.BaselineStore;
import java.io.IOException;
import java.time.Clock;
import java.util.Map;
import java.util.Objects;
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
    private final boolean finding;

    public Refused(String message) {
      this(message, message.contains("flagged"));
    }

    /**
     * @param finding whether the version was evaluated and found not promotable (rather than named
     *     by mistake)
     */
    public Refused(String message, boolean finding) {
      super(message);
      this.finding = finding;
    }

    /** Whether the refusal is a finding about an evaluated version, not a usage mistake. */
    public boolean finding() {
      return finding;
    }
  }

  /** What was done. */
  public record Outcome(
      BaselineRecord pinned, Optional<BaselineRecord> previous, String reason, boolean forced) {}

  private final EvaluationArchive archive;
  private final BaselineStore baselines;
  private final Clock clock;
  private final FlagVerifier verifier;

  /** A promotion that trusts the lockfile's flag as it stands (no public keys configured). */
  public Promotion(EvaluationArchive archive, BaselineStore baselines, Clock clock) {
    this(archive, baselines, clock, null);
  }

  /**
   * @param verifier when not null, {@code promote} requires the version's archived flag to be
   *     signed by one of its keys and to agree with the lockfile
   */
  public Promotion(
      EvaluationArchive archive, BaselineStore baselines, Clock clock, FlagVerifier verifier) {
    this.archive = archive;
    this.baselines = baselines;
    this.clock = clock;
    this.verifier = verifier;
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
    if (promote && verifier != null) {
      verifySignedFlag(model, version, lock);
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

  /**
   * Refuses unless the dispatcher's signed flag of the version, archived beside its lockfile,
   * verifies and names the lockfile's run and verdict: a lockfile or flag written by anyone else
   * does not promote.
   */
  private void verifySignedFlag(String model, String version, EvaluationLock lock)
      throws Refused, IOException {
    String what = "version " + version + " of model " + model;
    SignedFlag signed =
        archive
            .signedFlag(model, version)
            .orElseThrow(
                () ->
                    new Refused(
                        what
                            + " has no signed flag at "
                            + archive.signedFlagPath(model, version)
                            + ": it was not decided by a dispatcher that signs flags, so it cannot"
                            + " be promoted while flags.public-keys is set",
                        true));
    if (verifier.verify(signed) instanceof FlagVerifier.Rejected rejected) {
      throw new Refused(
          "the archived flag of "
              + what
              + " is not trusted ("
              + rejected.reason().wireName()
              + "): "
              + rejected.detail(),
          true);
    }
    DriftFlag flag;
    try {
      flag = Json.read(signed.value(), DriftFlag.class);
    } catch (ContractViolation e) {
      throw new Refused("the archived flag of " + what + " is unreadable: " + e.getMessage(), true);
    }
    if (!Objects.equals(flag.runId(), lock.runId())
        || flag.flag() != lock.flag()
        || !model.equals(flag.model())
        || !version.equals(flag.version())) {
      throw new Refused(
          "the signed flag of "
              + what
              + " (run "
              + flag.runId()
              + ", "
              + flag.flag()
              + ") does not agree with its lockfile (run "
              + lock.runId()
              + ", "
              + lock.flag()
              + ")",
          true);
    }
  }
}
