package io.evalfleet.dispatcher.topology;

import io.evalfleet.common.contract.Coverage;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.MetricValue;
import io.evalfleet.common.contract.SchemaVersion;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.Evaluator;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.Task;
import io.evalfleet.dispatcher.archive.BaselineSnapshot;
import io.evalfleet.dispatcher.archive.EvaluationArchive;
import io.evalfleet.dispatcher.archive.EvaluationLock;
import io.evalfleet.dispatcher.archive.ScoreKey;
import io.evalfleet.dispatcher.baseline.BaselineRecord;
import io.evalfleet.dispatcher.decision.MetricVector;
import io.evalfleet.dispatcher.decision.Verdict;
import io.evalfleet.dispatcher.run.FirstVersions;
import io.evalfleet.dispatcher.run.RunState;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides runs: a complete run is compared with the baseline fixed when it was staged, archived
 * and flagged; a model's first version is pinned as its baseline, and the versions staged after it
 * that were waiting are decided against it; a run that fails or runs out of time is flagged ERROR or
 * INCOMPLETE with why, and the next version in line takes its place as the first.
 */
final class Conclusion {
  private static final Logger log = LoggerFactory.getLogger(Conclusion.class);

  private final RunBook book;
  private final Dispatching dispatching;
  private final FlowControl flow;

  Conclusion(RunBook book, FlowControl flow) {
    this.book = book;
    this.dispatching = book.dispatching;
    this.flow = flow;
  }

  /** What a run's decision rests on: its metric vector, where it was scored, and its archived scores if known. */
  private record Evaluated(MetricVector vector, EvaluationArchive.Provenance provenance, String scores, boolean reused,
      Coverage coverage) {}

  /** Decides a run whose shards are all scored. */
  void conclude(RunState run) {
    if (run.signatures().size() > 1) {
      fail(run, "workers reported different signatures for one model: " + String.join(" | ", run.signatures()));
      return;
    }
    MetricVector vector;
    try {
      vector = MetricVector.of(run.event().task(), assemble(run), run.rowsTotal());
    } catch (RuntimeException e) {
      fail(run, "cannot compute the metric vector: " + e.getMessage());
      return;
    }
    var provenance = new EvaluationArchive.Provenance(run.runtimes(), run.providers(), run.hardware(),
        run.signatures().size() == 1 ? run.signatures().get(0) : null, run.runId());
    decide(run, new Evaluated(vector, provenance, null, false, run.coverage()));
  }

  /** Decides a run on the scores of an identical, archived evaluation. */
  void concludeReused(RunState run, EvaluationArchive.ArchivedScores reused) {
    MetricVector vector = MetricVector.of(run.event().task(), reused.rows(), run.rowsTotal());
    decide(run, new Evaluated(vector, reused.provenance(), reused.uri(), true, run.reusedCoverage()));
  }

  /**
   * The per-row values of a complete run, one column per value, each row at its place: shard results
   * are copied in one at a time, so only the columns are held.
   */
  private Map<String, double[]> assemble(RunState run) {
    int rows = Math.toIntExact(run.rowsTotal());
    Map<String, double[]> columns = new LinkedHashMap<>();
    book.forEachResult(run.runId(), result -> result.values().forEach((name, part) ->
        System.arraycopy(part, 0, columns.computeIfAbsent(name, n -> new double[rows]), (int) result.rowStart(),
            part.length)));
    return columns;
  }

  private void decide(RunState run, Evaluated evaluated) {
    StagedWeightEvent event = run.event();
    Optional<BaselineRecord> baseline = run.baseline();
    if (baseline.isEmpty() && !event.baseline().equals(StagedWeightEvent.PRODUCTION)) {
      baseline = run.namedBaseline().or(() -> archivedVersion(event.model(), event.baseline()));
      if (baseline.isEmpty()) {
        BaselineRecord production = book.baselines.get(event.model());
        fail(run, "baseline version '" + event.baseline() + "' of model " + event.model() + " is not known: "
            + (production == null ? "the model has no production baseline yet, and it has no lockfile in "
                : "it is not the production baseline (version " + production.version() + ") and has no lockfile in ")
            + dispatching.archive.root());
        return;
      }
    }
    if (baseline.isPresent()) {
      compare(run, evaluated, baseline.get());
      return;
    }
    FirstVersions first = book.firstVersions.get(event.model());
    if (first == null || !first.contains(run.runId())) {
      fail(run, "no baseline was fixed for model " + event.model() + " when version " + event.version() + " was staged");
      return;
    }
    if (first.pinned().isPresent()) {
      compare(run, evaluated, first.pinned().get());
    } else if (first.head().orElseThrow().equals(run.runId())) {
      pinFirst(run, evaluated, first);
    } else {
      log.info("run {} for {} {} is scored; waiting for the first staged version of the model to be decided", run.runId(),
          event.model(), event.version());
      run.awaitBaseline();
      book.runs.put(run.runId(), run);
    }
  }

  /** The model's first version: WARN (nothing to compare with), pinned as its baseline; then the ones waiting. */
  private void pinFirst(RunState run, Evaluated evaluated, FirstVersions first) {
    StagedWeightEvent event = run.event();
    Verdict outcome = dispatching.decider.withoutBaseline(evaluated.vector(), "no production baseline for model "
        + event.model() + ": nothing to compare with; version " + event.version() + " is now pinned as its production"
        + " baseline");
    List<String> reasons = new ArrayList<>(run.notes());
    reasons.addAll(outcome.reasons());
    Archived archived = archive(run, evaluated, outcome, null, reasons);
    BaselineRecord pinned = new BaselineRecord(event.model(), event.version(), run.runId(), event.artifact().sha256(),
        event.goldenSubset().sha256(), event.tokenizer() == null ? null : event.tokenizer().sha256(),
        event.baseModelSha256(), evaluated.provenance().modelSignature(), evaluated.vector().metrics(), archived.scores(),
        event.commit(), book.now(), conventionsOf(event));
    pin(pinned, "first");
    first.pinned(pinned);
    first.decided(run.runId());
    flag(run, outcome.flag(), outcome.metrics(), reasons, null, evaluated.coverage(), evaluated.provenance().executionProviders(),
        archived.lockfile(), true);
    List<String> waiting = first.runs();
    saveFirstVersions(event.model(), first);
    for (String runId : waiting) {
      RunState next = book.runs.get(runId);
      if (next != null && next.stage() == RunState.Stage.AWAITING_BASELINE) {
        conclude(next);
      }
    }
  }

  private void compare(RunState run, Evaluated evaluated, BaselineRecord baseline) {
    StagedWeightEvent event = run.event();
    MetricVector vector = evaluated.vector();
    if (Collections.disjoint(baseline.metrics().keySet(), vector.metrics().keySet())) {
      fail(run, "baseline version " + baseline.version() + " has metrics " + baseline.metrics().keySet()
          + " and this run " + vector.metrics().keySet() + ": they were evaluated as different tasks");
      return;
    }
    if (!baseline.subsetSha256().equals(event.goldenSubset().sha256())) {
      fail(run, "baseline version " + baseline.version() + " was scored on golden subset "
          + short12(baseline.subsetSha256()) + ", this run on " + short12(event.goldenSubset().sha256())
          + ": metrics on different subsets are not comparable");
      return;
    }
    String signature = evaluated.provenance().modelSignature();
    boolean signatureChanged = baseline.modelSignature() != null && signature != null
        && !baseline.modelSignature().equals(signature);
    boolean tokenizerChanged = run.notComparable().containsKey(MetricNames.PERPLEXITY);
    Verdict outcome;
    if (signatureChanged && !tokenizerChanged) {
      outcome = dispatching.decider.signatureChanged(vector, baseline.version(), baseline.modelSignature(), signature);
    } else {
      EmbeddingConventions candidateConventions = conventionsOf(event);
      if (candidateConventions != null && baseline.embedding() != null
          && !candidateConventions.equals(baseline.embedding())) {
        run.note("embedding conventions changed: baseline " + baseline.embedding().describe() + "; candidate "
            + candidateConventions.describe() + " (the scores compare what each version is configured to produce)");
      }
      if (signatureChanged) {
        run.note("the model's signature changed with its tokenizer (baseline " + baseline.modelSignature()
            + "; candidate " + signature + ")");
      }
      Map<String, double[]> baselineRows;
      try {
        if (baseline.scores() == null) {
          throw new IOException("its scores were never archived");
        }
        baselineRows = dispatching.archive.readScores(baseline.scores());
      } catch (IOException | RuntimeException e) {
        fail(run, "cannot read the per-row scores of baseline version " + baseline.version() + " ("
            + baseline.scores() + "): " + e.getMessage());
        return;
      }
      try {
        outcome = dispatching.decider.compare(vector, baseline.version(), baselineRows,
            bandHistory(event.model(), baseline.version()), run.notComparable());
      } catch (IllegalArgumentException e) {
        fail(run, "cannot compare with baseline version " + baseline.version() + ": " + e.getMessage());
        return;
      }
    }
    List<String> reasons = new ArrayList<>(run.notes());
    reasons.addAll(outcome.reasons());
    Archived archived = archive(run, evaluated, outcome, baseline.version(), reasons);
    leaveFirstVersions(run);
    flag(run, outcome.flag(), outcome.metrics(), reasons, baseline.version(), evaluated.coverage(),
        evaluated.provenance().executionProviders(), archived.lockfile(), true);
  }

  private record Archived(String scores, String lockfile) {}

  /**
   * Keeps the run's per-row scores and writes its lockfile. When the archive cannot be written the
   * flag is published regardless, with a reason added, and no lockfile.
   */
  private Archived archive(RunState run, Evaluated evaluated, Verdict outcome, String baselineVersion,
      List<String> reasons) {
    StagedWeightEvent event = run.event();
    String scores = evaluated.scores();
    try {
      if (scores == null) {
        scores = dispatching.archive.writeScores(ScoreKey.of(event), evaluated.vector().rowValues(),
            evaluated.provenance());
      } else if (evaluated.reused()) {
        reasons.add("scores reused from an identical earlier evaluation (same artifact, tokenizer, golden subset,"
            + " evaluator and windowing): " + scores);
      }
      Map<String, EvaluationLock.LockedMetric> locked = new LinkedHashMap<>();
      outcome.metrics().forEach((name, m) -> locked.put(name, new EvaluationLock.LockedMetric(m.value(),
          m.relativeDelta(), m.ciLow(), m.ciHigh(), m.ciConfidence(), m.status())));
      var provenance = evaluated.provenance();
      EvaluationLock lock = new EvaluationLock(EvaluationLock.CURRENT, event.model(), event.version(), event.eventId(),
          run.runId(), event.commit(), event.task().wireName(), event.artifact(),
          event.tokenizer() == null ? null : event.tokenizer().sha256(), event.goldenSubset().uri(),
          event.goldenSubset().sha256(), Evaluator.VERSION, provenance.onnxRuntime(), provenance.executionProviders(),
          provenance.hardware(), event.hardwareProfile(), event.quantizationBits(), event.maxSeqLen(), event.stride(),
          event.baseModelSha256(), provenance.modelSignature(), dispatching.policy.policyVersion(), baselineVersion,
          outcome.flag(), locked, scores, evaluated.reused(), book.now(), conventionsOf(event));
      return new Archived(scores, dispatching.archive.writeLock(lock));
    } catch (IOException | RuntimeException e) {
      log.error("cannot archive run {} in {}: {}", run.runId(), dispatching.archive.root(), e.toString());
      reasons.add("the evaluation could not be archived in " + dispatching.archive.root() + " (" + e.getMessage()
          + "): no lockfile, and its scores cannot be reused");
      return new Archived(scores, null);
    }
  }

  /**
   * An evaluated version named as the baseline of an event, from its lockfile; empty when it was
   * never evaluated (or its lockfile names no scores).
   */
  Optional<BaselineRecord> archivedVersion(String model, String version) {
    try {
      return dispatching.archive.lock(model, version).filter(lock -> lock.scores() != null)
          .map(lock -> BaselineRecord.of(lock, lock.decidedAt()));
    } catch (IOException | RuntimeException e) {
      log.warn("cannot read version {} of {} from the archive: {}", version, model, e.toString());
      return Optional.empty();
    }
  }

  /** Makes {@code record} the production baseline (store and topic) and adds it to the model's history. */
  private void pin(BaselineRecord record, String reason) {
    book.baselines.put(record.model(), record);
    book.publish(record);
    try {
      dispatching.archive.recordBaseline(new BaselineSnapshot(record.model(), record.version(), record.commit(),
          record.runId(), record.artifactSha256(), record.subsetSha256(), record.metrics(), reason, record.recordedAt()));
    } catch (IOException | RuntimeException e) {
      log.error("cannot add baseline {} {} to the history in {}: {}", record.model(), record.version(),
          dispatching.archive.root(), e.toString());
    }
    dispatching.bandHistory.asMap().keySet().removeIf(key -> key.startsWith(record.model() + "@"));
  }

  /** Per metric, its values in the model's production snapshots, oldest first: the band's data. */
  private Map<String, List<Double>> bandHistory(String model, String productionVersion) {
    return dispatching.bandHistory.get(model + "@" + productionVersion, k -> {
      Map<String, List<Double>> values = new LinkedHashMap<>();
      try {
        for (BaselineSnapshot snapshot : dispatching.archive.baselineHistory(model)) {
          snapshot.metrics().forEach((metric, value) -> values.computeIfAbsent(metric, m -> new ArrayList<>()).add(value));
        }
      } catch (IOException | RuntimeException e) {
        log.warn("cannot read the baseline history of {} (deciding without a band): {}", model, e.toString());
      }
      return values;
    });
  }

  /** Ends a run that cannot be evaluated before any shard is scored. */
  void refuse(RunState run, String reason) {
    end(run, Flag.ERROR, List.of(reason), null);
  }

  /** Ends a run that failed: ERROR, with its coverage so far. */
  void fail(RunState run, String reason) {
    end(run, Flag.ERROR, List.of(reason), run.coverage());
  }

  /** Ends a run past its deadline: INCOMPLETE, with its coverage and what it was waiting for. */
  void expire(RunState run) {
    String reason;
    if (run.stage() == RunState.Stage.PREFLIGHT) {
      reason = "deadline " + run.deadline() + " passed before " + run.whyWaiting().orElse("pre-flight finished");
    } else if (run.stage() == RunState.Stage.AWAITING_BASELINE) {
      reason = "deadline " + run.deadline() + " passed while every shard was scored but the model's first staged"
          + " version, its baseline, was still undecided";
    } else {
      var coverage = run.coverage();
      reason = String.format("deadline %s passed with %d of %d shards (%d of %d rows) scored", run.deadline(),
          coverage.shardsDone(), coverage.shardsTotal(), coverage.rowsScored(), coverage.rowsTotal());
      if (run.whyWaiting().isPresent()) {
        reason += "; shards were waiting: " + run.whyWaiting().get();
      }
    }
    end(run, Flag.INCOMPLETE, List.of(reason), run.stage() == RunState.Stage.PREFLIGHT ? null : run.coverage());
  }

  private void end(RunState run, Flag flag, List<String> reasons, Coverage coverage) {
    flow.released(run.open());
    boolean wasHead = leaveFirstVersions(run);
    flag(run, flag, Map.of(), reasons, null, coverage, run.providers(), null, false);
    if (wasHead) {
      // The next version in line becomes the first; if it was already waiting, it is decided now.
      FirstVersions first = book.firstVersions.get(run.event().model());
      if (first != null && first.pinned().isEmpty()) {
        first.head().map(book.runs::get).filter(next -> next.stage() == RunState.Stage.AWAITING_BASELINE)
            .ifPresent(this::conclude);
      }
    }
  }

  /** Takes a decided run out of its model's first versions; returns whether it was the one in line to be pinned. */
  private boolean leaveFirstVersions(RunState run) {
    String model = run.event().model();
    FirstVersions first = book.firstVersions.get(model);
    if (first == null || !first.contains(run.runId())) {
      return false;
    }
    boolean head = first.pinned().isEmpty() && first.head().orElseThrow().equals(run.runId());
    first.decided(run.runId());
    saveFirstVersions(model, first);
    return head;
  }

  private void saveFirstVersions(String model, FirstVersions first) {
    if (first.isEmpty()) {
      book.firstVersions.delete(model);
    } else {
      book.firstVersions.put(model, first);
    }
  }

  /** @param byPolicy whether the decision policy set the flag (not so for runs that ended without a decision) */
  private void flag(RunState run, Flag flag, Map<String, MetricValue> metrics, List<String> reasons,
      String baselineVersion, Coverage coverage, List<String> providers, String lockfile, boolean byPolicy) {
    StagedWeightEvent event = run.event();
    Instant now = book.now();
    DriftFlag driftFlag = new DriftFlag(SchemaVersion.CURRENT, run.runId(), event.eventId(), event.model(),
        event.version(), baselineVersion, flag, metrics, new ArrayList<>(reasons), coverage, providers, run.stagedAt(),
        now, Duration.between(run.stagedAt(), now).toMillis(), byPolicy ? dispatching.policy.policyVersion() : null,
        lockfile);
    book.publish(run.runId(), driftFlag, event.model());
  }

  /** An embedding event's conventions, defaults filled in; null for other tasks. */
  static EmbeddingConventions conventionsOf(StagedWeightEvent event) {
    return event.task() == Task.EMBEDDING ? EmbeddingConventions.orDefaults(event.embedding()) : null;
  }

  static String short12(String sha256) {
    return sha256.substring(0, 12);
  }
}
