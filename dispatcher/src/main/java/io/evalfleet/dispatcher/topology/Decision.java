package io.evalfleet.dispatcher.topology;

import io.evalfleet.common.archive.BaselineSnapshot;
import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.archive.EvaluationLock;
import io.evalfleet.common.archive.NoiseFloorRecord;
import io.evalfleet.common.archive.ScoreKey;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.MetricValue;
import io.evalfleet.common.contract.ScoringEnvelope;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.Evaluator;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.TokenSketch;
import io.evalfleet.dispatcher.baseline.BaselineRecord;
import io.evalfleet.dispatcher.decision.Decider;
import io.evalfleet.dispatcher.decision.Look;
import io.evalfleet.dispatcher.decision.MetricVector;
import io.evalfleet.dispatcher.decision.NoiseFloor;
import io.evalfleet.dispatcher.decision.RowColumns;
import io.evalfleet.dispatcher.decision.Verdict;
import io.evalfleet.dispatcher.run.RunState;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The statistics of one complete run, computed off the stream thread (they take seconds on a large
 * subset, longer than a transaction may stay open): its metric vector, the paired comparison with
 * its baseline (or none, for a model's first version), its archived scores and lockfile. Reads and
 * writes the archive, never a state store; the same inputs give the same verdict, so a decision cut
 * short by a crash is simply computed again by the run's next owner.
 */
final class Decision implements Callable<Decision.Outcome> {
  private static final Logger log = LoggerFactory.getLogger(Decision.class);

  /** The metrics of a token shift, which hold only against the version it was measured against. */
  static final List<String> SHIFT_METRICS =
      List.of(
          MetricNames.KL_MEAN,
          MetricNames.KL_P99,
          MetricNames.TOP1_AGREEMENT,
          MetricNames.DP_TRUE_MEAN);

  /**
   * The metrics of index compatibility, which hold only against the version whose embeddings were
   * read.
   */
  private static final List<String> INDEX_METRICS =
      List.of(
          MetricNames.INDEX_NDCG_AT_10,
          MetricNames.INDEX_LOSS,
          MetricNames.OVERLAP_AT_10,
          MetricNames.TEXT_COSINE);

  /**
   * What a decision found.
   *
   * @param failure why the run cannot be decided (ERROR), or null
   * @param pinned for a model's first version, the baseline it becomes
   */
  record Outcome(
      String runId,
      Flag flag,
      Map<String, MetricValue> metrics,
      List<String> reasons,
      String baselineVersion,
      List<String> providers,
      String lockfile,
      BaselineRecord pinned,
      String failure,
      long rows,
      long millis) {}

  /** The paired comparison with the baseline: made, or why it cannot be. */
  sealed interface Comparison permits Compared, NotCompared {}

  record Compared(Verdict verdict) implements Comparison {}

  /**
   * @param reason why the run cannot be compared with its baseline (it ends ERROR)
   */
  record NotCompared(String reason) implements Comparison {}

  /**
   * Where a run's evaluation was archived.
   *
   * @param scores its per-row scores (its own, or those it reused), or null when they could not be
   *     written
   * @param lockfile its lockfile, or null when the archive could not be written
   */
  record Archived(String scores, String lockfile) {}

  private final Dispatching dispatching;
  private final RunState run;

  /**
   * The run's per-row values and token sketches; null when they come from an identical archived
   * evaluation.
   */
  private final RowColumns columns;

  private final Instant now;

  Decision(Dispatching dispatching, RunState run, RowColumns columns, Instant now) {
    this.dispatching = dispatching;
    this.run = run;
    this.columns = columns;
    this.now = now;
  }

  /** Everything the run's scores depend on, its token-shift reference included. */
  static ScoreKey scoreKey(RunState run) {
    return ScoreKey.of(
        run.event(), run.shiftReference().map(BaselineRecord::artifactSha256).orElse(null));
  }

  @Override
  public Outcome call() {
    long started = System.nanoTime();
    try {
      Outcome outcome = decide(started);
      log.info(
          "run {} ({} {}) decided {} in {} ms over {} rows",
          run.runId(),
          run.event().model(),
          run.event().version(),
          outcome.failure() == null ? outcome.flag() : "ERROR",
          outcome.millis(),
          outcome.rows());
      return outcome;
    } catch (IOException | RuntimeException e) {
      return failed("cannot decide: " + e, started);
    }
  }

  private Outcome decide(long started) throws IOException {
    if (run.stoppedEarly()) {
      return stopped(started);
    }
    StagedWeightEvent event = run.event();
    MetricVector vector;
    EvaluationArchive.Provenance provenance;
    String scores = null;
    if (columns == null) {
      var reused =
          dispatching
              .archive
              .scores(scoreKey(run))
              .orElseThrow(
                  () ->
                      new IOException(
                          "the archived scores of an identical evaluation are gone: "
                              + run.reusedScores().orElse("?")));
      Map<String, TokenSketch> sketches = new LinkedHashMap<>();
      reused.sketches().forEach((name, encoded) -> sketches.put(name, TokenSketch.decode(encoded)));
      vector =
          MetricVector.of(
              event.task(),
              reused.rows(),
              sketches,
              MetricVector.units(event.task(), reused.rows()));
      provenance = reused.provenance();
      scores = reused.uri();
    } else {
      vector =
          MetricVector.of(
              event.task(),
              columns.columns(),
              columns.sketches(),
              MetricVector.units(event.task(), columns.columns()));
      provenance =
          new EvaluationArchive.Provenance(
              run.runtimes(),
              run.providers(),
              run.hardware(),
              run.signatures().size() == 1 ? run.signatures().get(0) : null,
              run.runId());
    }
    List<String> reasons = new ArrayList<>(run.notes());
    BaselineRecord baseline = run.comparedWith().orElse(null);
    Verdict verdict;
    if (baseline == null) {
      verdict =
          dispatching.decider.withoutBaseline(
              vector,
              "no production baseline for model "
                  + event.model()
                  + ": nothing to compare with; version "
                  + event.version()
                  + " is now pinned as its production baseline");
      measuredAgainstAnEarlierFirst(vector).ifPresent(reasons::add);
    } else {
      Comparison comparison = compare(vector, provenance, baseline, reasons);
      if (comparison instanceof NotCompared notCompared) {
        return failed(notCompared.reason(), started);
      }
      verdict = ((Compared) comparison).verdict();
    }
    reindexing(vector, verdict, baseline).ifPresent(reasons::add);
    reasons.addAll(verdict.reasons());
    Archived archived =
        archive(
            vector,
            provenance,
            scores,
            verdict,
            baseline == null ? null : baseline.version(),
            reasons);
    BaselineRecord pinned = null;
    if (baseline == null) {
      pinned =
          BaselineRecord.builder()
              .model(event.model())
              .version(event.version())
              .runId(run.runId())
              .artifactSha256(event.artifact().sha256())
              .subsetSha256(event.goldenSubset().sha256())
              .tokenizerSha256(event.tokenizer() == null ? null : event.tokenizer().sha256())
              .baseModelSha256(event.baseModelSha256())
              .modelSignature(provenance.modelSignature())
              .metrics(vector.metrics())
              .scores(archived.scores())
              .commit(event.commit())
              .recordedAt(now)
              .embedding(conventionsOf(event))
              .artifact(event.artifact())
              .build();
    }
    return new Outcome(
        run.runId(),
        verdict.flag(),
        verdict.metrics(),
        reasons,
        baseline == null ? null : baseline.version(),
        provenance.executionProviders(),
        archived.lockfile(),
        pinned,
        null,
        vector.rows(),
        millisSince(started));
  }

  /** The paired comparison with the baseline, or why it cannot be made. */
  private Comparison compare(
      MetricVector vector,
      EvaluationArchive.Provenance provenance,
      BaselineRecord baseline,
      List<String> reasons) {
    StagedWeightEvent event = run.event();
    if (Collections.disjoint(baseline.metrics().keySet(), vector.metrics().keySet())) {
      return new NotCompared(
          "baseline version "
              + baseline.version()
              + " has metrics "
              + baseline.metrics().keySet()
              + " and this run "
              + vector.metrics().keySet()
              + ": they were evaluated as different tasks");
    }
    if (!baseline.subsetSha256().equals(event.goldenSubset().sha256())) {
      return new NotCompared(
          "baseline version "
              + baseline.version()
              + " was scored on golden subset "
              + short12(baseline.subsetSha256())
              + ", this run on "
              + short12(event.goldenSubset().sha256())
              + ": metrics on different subsets are not comparable");
    }
    String signature = provenance.modelSignature();
    boolean signatureChanged =
        baseline.modelSignature() != null
            && signature != null
            && !baseline.modelSignature().equals(signature);
    boolean tokenizerChanged = run.notComparable().containsKey(MetricNames.PERPLEXITY);
    if (signatureChanged && !tokenizerChanged) {
      return new Compared(
          dispatching.decider.signatureChanged(
              vector, baseline.version(), baseline.modelSignature(), signature));
    }
    EmbeddingConventions candidateConventions = conventionsOf(event);
    if (candidateConventions != null
        && baseline.embedding() != null
        && !candidateConventions.equals(baseline.embedding())) {
      reasons.add(
          "embedding conventions changed: baseline "
              + baseline.embedding().describe()
              + "; candidate "
              + candidateConventions.describe()
              + " (the scores compare what each version is configured to produce)");
    }
    if (signatureChanged) {
      reasons.add(
          "the model's signature changed with its tokenizer (baseline "
              + baseline.modelSignature()
              + "; candidate "
              + signature
              + ")");
    }
    if (run.shiftReference().isPresent() && !vector.metrics().containsKey(MetricNames.KL_MEAN)) {
      reasons.add(
          "token shift not measured: the candidate predicts over another vocabulary than baseline version "
              + run.shiftReference().get().version()
              + ", so it was scored alone");
    }
    Map<String, double[]> baselineRows;
    try {
      if (baseline.scores() == null) {
        throw new IOException("its scores were never archived");
      }
      baselineRows = dispatching.archive.readScores(baseline.scores());
    } catch (IOException | RuntimeException e) {
      return new NotCompared(
          "cannot read the per-row scores of baseline version "
              + baseline.version()
              + " ("
              + baseline.scores()
              + "): "
              + e.getMessage());
    }
    SequentialLook.Paired paired = SequentialLook.rowsBothHave(event.task(), vector, baselineRows);
    if (paired != null) {
      reasons.add(
          "baseline version "
              + baseline.version()
              + " was not scored on every row (it stopped early): compared on the "
              + paired.rows()
              + " of "
              + vector.rows()
              + " rows both runs have");
      baselineRows = paired.baseline();
      vector =
          MetricVector.of(
              event.task(),
              paired.candidate(),
              vector.sketches(),
              MetricVector.units(event.task(), paired.candidate()));
    }
    Map<String, String> notComparable = new LinkedHashMap<>(run.notComparable());
    run.provisionalBaseline()
        .filter(first -> !first.equals(baseline.version()))
        .ifPresent(
            first ->
                reasons.add(
                    "pre-flight checked this version against version "
                        + first
                        + ", the model's first staged when it was staged,"
                        + " which ended without becoming its baseline; the adapter and tokenizer gates were not checked again"
                        + " against version "
                        + baseline.version()
                        + ", which it is compared with"));
    run.shiftReference()
        .filter(reference -> !reference.version().equals(baseline.version()))
        .ifPresent(
            reference ->
                SHIFT_METRICS.forEach(
                    metric ->
                        notComparable.put(
                            metric,
                            "the token shift was measured against version "
                                + reference.version()
                                + endedFirst(reference.version())
                                + ", but the run is compared with version "
                                + baseline.version())));
    indexVersion()
        .filter(version -> !version.equals(baseline.version()))
        .ifPresent(
            version ->
                INDEX_METRICS.forEach(
                    metric ->
                        notComparable.put(
                            metric,
                            "index compatibility was measured against the"
                                + " embeddings of version "
                                + version
                                + endedFirst(version)
                                + ", but the run is compared with version "
                                + baseline.version())));
    NoiseFloor.Assessment floor = noiseFloor(baseline);
    reasons.addAll(floor.reasons());
    Decider fixed = run.looks() > 0 ? dispatching.deciderAfterLooks : dispatching.decider;
    Decider decider = floor.widening().isEmpty() ? fixed : fixed.widenedBy(floor.widening());
    try {
      Verdict verdict =
          decider
              .forChangeKind(run.changeKind().orElse(null))
              .compare(
                  vector,
                  baseline.version(),
                  baselineRows,
                  bandHistory(event.model(), baseline.version()),
                  notComparable);
      return new Compared(
          floor.refused() ? new Verdict(Flag.WARN, verdict.metrics(), verdict.reasons()) : verdict);
    } catch (IllegalArgumentException e) {
      return new NotCompared(
          "cannot compare with baseline version " + baseline.version() + ": " + e.getMessage());
    }
  }

  /**
   * What the scoring envelopes of this run and its baseline, and the model's archived noise floor,
   * say about their comparison. The floor is looked up for the candidate's weights on its profiles,
   * then for the baseline's; an archive that cannot be read leaves it out, with a warning in the
   * log.
   */
  private NoiseFloor.Assessment noiseFloor(BaselineRecord baseline) {
    StagedWeightEvent event = run.event();
    List<ScoringEnvelope> baselineEnvelopes = List.of();
    NoiseFloorRecord floor = null;
    try {
      baselineEnvelopes =
          dispatching
              .archive
              .lock(event.model(), baseline.version())
              .map(EvaluationLock::envelopes)
              .orElse(List.of());
      floor = floorOf(event.artifact().sha256(), run.envelopes());
      if (floor == null) {
        floor = floorOf(baseline.artifactSha256(), baselineEnvelopes);
      }
    } catch (IOException | RuntimeException e) {
      log.warn(
          "cannot read the envelopes or noise floor of {} (comparing without them): {}",
          event.model(),
          e.toString());
    }
    return NoiseFloor.assess(
        dispatching.policy, baseline.version(), run.envelopes(), baselineEnvelopes, floor);
  }

  private NoiseFloorRecord floorOf(String artifactSha256, List<ScoringEnvelope> envelopes)
      throws IOException {
    if (artifactSha256 == null) {
      return null;
    }
    for (String profile : envelopes.stream().map(ScoringEnvelope::profile).distinct().toList()) {
      Optional<NoiseFloorRecord> floor = dispatching.archive.noiseFloor(artifactSha256, profile);
      if (floor.isPresent()) {
        return floor.get();
      }
    }
    return null;
  }

  /**
   * Keeps the run's per-row scores (unless reused) and writes its lockfile. When the archive cannot
   * be written the flag is published regardless, with a reason added, and no lockfile.
   */
  private Archived archive(
      MetricVector vector,
      EvaluationArchive.Provenance provenance,
      String reusedScores,
      Verdict verdict,
      String baselineVersion,
      List<String> reasons) {
    StagedWeightEvent event = run.event();
    String scores = reusedScores;
    try {
      if (scores == null) {
        Map<String, String> sketches = new LinkedHashMap<>();
        vector.sketches().forEach((name, sketch) -> sketches.put(name, sketch.encode()));
        scores =
            run.stoppedEarly()
                ? dispatching.archive.writeScores(
                    scoreKey(run),
                    vector.rowValues(),
                    run.order().orElseThrow().rows(0, Math.toIntExact(run.prefixRows())),
                    sketches,
                    provenance)
                : dispatching.archive.writeScores(
                    scoreKey(run), vector.rowValues(), sketches, provenance);
      } else {
        reasons.add(
            "scores reused from an identical earlier evaluation (same artifact, tokenizer, golden subset,"
                + " evaluator and windowing): "
                + scores);
      }
      Map<String, EvaluationLock.LockedMetric> locked = new LinkedHashMap<>();
      verdict.metrics().forEach((name, m) -> locked.put(name, EvaluationLock.LockedMetric.of(m)));
      EvaluationLock lock =
          EvaluationLock.builder()
              .model(event.model())
              .version(event.version())
              .eventId(event.eventId())
              .runId(run.runId())
              .commit(event.commit())
              .task(event.task().wireName())
              .artifact(event.artifact())
              .tokenizerSha256(event.tokenizer() == null ? null : event.tokenizer().sha256())
              .goldenSubsetUri(event.goldenSubset().uri())
              .goldenSubsetSha256(event.goldenSubset().sha256())
              .goldenSubsetColumns(event.goldenSubset().columns())
              .evaluatorVersion(Evaluator.VERSION)
              .onnxRuntime(provenance.onnxRuntime())
              .executionProviders(provenance.executionProviders())
              .hardware(provenance.hardware())
              .requestedHardwareProfile(event.hardwareProfile())
              .quantizationBits(event.quantizationBits())
              .changeKind(run.changeKind().orElse(event.changeKind()))
              .maxSeqLen(event.maxSeqLen())
              .stride(event.stride())
              .baseModelSha256(event.baseModelSha256())
              .modelSignature(provenance.modelSignature())
              .policyVersion(dispatching.policy.policyVersion())
              .baselineVersion(baselineVersion)
              .flag(verdict.flag())
              .metrics(locked)
              .scores(scores)
              .scoresReused(reusedScores != null)
              .decidedAt(now)
              .embedding(conventionsOf(event))
              .envelopes(run.envelopes())
              .build();
      return new Archived(scores, dispatching.archive.writeLock(lock));
    } catch (IOException | RuntimeException e) {
      log.error(
          "cannot archive run {} in {}: {}", run.runId(), dispatching.archive.root(), e.toString());
      reasons.add(
          "the evaluation could not be archived in "
              + dispatching.archive.root()
              + " ("
              + e.getMessage()
              + "): no lockfile, and its scores cannot be reused");
      return new Archived(reusedScores, null);
    }
  }

  /**
   * For a retrieval run against a baseline: whether the index built with the baseline's embeddings
   * must be rebuilt before this version serves queries, or why that was not measured.
   */
  private Optional<String> reindexing(
      MetricVector vector, Verdict verdict, BaselineRecord baseline) {
    if (baseline == null || run.retrieval().isEmpty()) {
      return Optional.empty();
    }
    if (indexVersion().filter(version -> !version.equals(baseline.version())).isPresent()) {
      return Optional.of(
          "re-index not judged: the index compared was built by version "
              + indexVersion().get()
              + ", not by version "
              + baseline.version()
              + ", which this one is compared with");
    }
    MetricValue loss = verdict.metrics().get(MetricNames.INDEX_LOSS);
    if (loss == null) {
      return Optional.of(
          vector.metrics().containsKey(MetricNames.OVERLAP_AT_10)
              ? "index compatibility not measured: this version's embeddings have other dimensions than baseline version "
                  + baseline.version()
                  + "'s, so its index must be rebuilt"
              : "index compatibility not measured: the embeddings of baseline version "
                  + baseline.version()
                  + " are not in the archive ("
                  + run.retrieval().get().baselineEmbeddings()
                  + ")");
    }
    String cost =
        String.format(
            Locale.ROOT,
            "keeping the index built by version %s costs %.1f%% of nDCG@10"
                + " (%.4f against %.4f rebuilt)",
            baseline.version(),
            100 * loss.value(),
            vector.metrics().get(MetricNames.INDEX_NDCG_AT_10),
            vector.metrics().get(MetricNames.NDCG_AT_10));
    if (loss.status() == null || loss.limit() == null) {
      return Optional.of("re-index not judged (the policy has no limit for index_loss): " + cost);
    }
    if (loss.status() == Flag.RED) {
      return Optional.of(
          "re-index required: " + cost + ", beyond the policy's limit of " + loss.limit());
    }
    if (loss.status() == Flag.GREEN) {
      return Optional.of(
          "no re-index needed: " + cost + ", within the policy's limit of " + loss.limit());
    }
    return Optional.of(
        "re-index may be required: "
            + cost
            + "; the policy's limit of "
            + loss.limit()
            + " is within its interval");
  }

  /**
   * The version whose corpus embeddings a retrieval run's queries were also ranked against, if any.
   */
  private Optional<String> indexVersion() {
    return run.retrieval()
        .filter(plan -> plan.baselineEmbeddings() != null)
        .map(RunState.RetrievalPlan::index)
        .map(RunState.IndexReference::version);
  }

  /**
   * Says, when {@code version} was the model's first staged when this run was, that it never became
   * the baseline.
   */
  private String endedFirst(String version) {
    return run.provisionalBaseline().filter(version::equals).isPresent()
        ? " (the model's first staged when this version was, which ended without becoming its baseline)"
        : "";
  }

  /**
   * For a model's first version pinned as its baseline after the one staged before it ended without
   * a verdict: its token shift or index compatibility compare it with that earlier one.
   */
  private Optional<String> measuredAgainstAnEarlierFirst(MetricVector vector) {
    Optional<String> shift =
        run.shiftReference()
            .map(BaselineRecord::version)
            .filter(v -> vector.metrics().containsKey(MetricNames.KL_MEAN));
    Optional<String> index =
        indexVersion().filter(v -> vector.metrics().containsKey(MetricNames.OVERLAP_AT_10));
    return shift
        .map(
            v ->
                "the token shift ("
                    + String.join(", ", SHIFT_METRICS)
                    + ") was measured against version "
                    + v
                    + endedFirst(v)
                    + "; it is reported, and judges nothing")
        .or(
            () ->
                index.map(
                    v ->
                        "index compatibility ("
                            + String.join(", ", INDEX_METRICS)
                            + ") was measured against"
                            + " the embeddings of version "
                            + v
                            + endedFirst(v)
                            + "; it is reported, and judges nothing"));
  }

  /**
   * A sequential run stopped early: its flag is the verdict of the look that stopped it, made again
   * from the same prefix and baseline rows (so the same look); the prefix's scores are archived
   * with their file rows (never reused as a whole evaluation's) and the lockfile written.
   */
  private Outcome stopped(long started) throws IOException {
    StagedWeightEvent event = run.event();
    BaselineRecord baseline = run.comparedWith().orElseThrow();
    Map<String, double[]> baselineRows = dispatching.archive.readScores(baseline.scores());
    SequentialLook.Paired paired =
        SequentialLook.pair(
            run.order().orElseThrow(), columns.columns(), run.prefixRows(), baselineRows);
    Look look = SequentialLook.look(dispatching, run, baseline, paired, run.looks() - 1);
    if (look.verdict() == null) {
      return failed(
          "the look that stopped the run after "
              + run.prefixRows()
              + " rows said "
              + look.stop()
              + " when made again: "
              + look.reason(),
          started);
    }
    Verdict verdict = look.verdict();
    MetricVector vector =
        MetricVector.of(
            event.task(),
            columns.columns(),
            columns.sketches(),
            MetricVector.units(event.task(), columns.columns()));
    EvaluationArchive.Provenance provenance =
        new EvaluationArchive.Provenance(
            run.runtimes(),
            run.providers(),
            run.hardware(),
            run.signatures().size() == 1 ? run.signatures().get(0) : null,
            run.runId());
    List<String> reasons = new ArrayList<>(run.notes());
    reasons.addAll(verdict.reasons());
    Archived archived = archive(vector, provenance, null, verdict, baseline.version(), reasons);
    return new Outcome(
        run.runId(),
        verdict.flag(),
        verdict.metrics(),
        reasons,
        baseline.version(),
        provenance.executionProviders(),
        archived.lockfile(),
        null,
        null,
        run.prefixRows(),
        millisSince(started));
  }

  /** Per metric, its values in the model's production snapshots, oldest first: the band's data. */
  private Map<String, List<Double>> bandHistory(String model, String productionVersion) {
    return dispatching.bandHistory.get(
        model + "@" + productionVersion,
        k -> {
          Map<String, List<Double>> values = new LinkedHashMap<>();
          try {
            for (BaselineSnapshot snapshot : dispatching.archive.baselineHistory(model)) {
              snapshot
                  .metrics()
                  .forEach(
                      (metric, value) ->
                          values.computeIfAbsent(metric, m -> new ArrayList<>()).add(value));
            }
          } catch (IOException | RuntimeException e) {
            log.warn(
                "cannot read the baseline history of {} (deciding without a band): {}",
                model,
                e.toString());
          }
          return values;
        });
  }

  private Outcome failed(String reason, long started) {
    return new Outcome(
        run.runId(),
        Flag.ERROR,
        Map.of(),
        List.of(reason),
        null,
        run.providers(),
        null,
        null,
        reason,
        run.rowsTotal(),
        millisSince(started));
  }

  private static long millisSince(long started) {
    return (System.nanoTime() - started) / 1_000_000;
  }

  /**
   * An evaluated version named as the baseline of an event, from its lockfile; empty when it was
   * never evaluated (or its lockfile names no scores, or the archive cannot be read).
   */
  static Optional<BaselineRecord> archivedVersion(
      Dispatching dispatching, String model, String version) {
    try {
      return dispatching
          .archive
          .lock(model, version)
          .filter(lock -> lock.scores() != null)
          .map(lock -> BaselineRecord.of(lock, lock.decidedAt()));
    } catch (IOException | RuntimeException e) {
      log.warn("cannot read version {} of {} from the archive: {}", version, model, e.toString());
      return Optional.empty();
    }
  }

  /** An embedding event's conventions, defaults filled in; null for other tasks. */
  static EmbeddingConventions conventionsOf(StagedWeightEvent event) {
    return event.task().usesEmbeddingConventions()
        ? EmbeddingConventions.orDefaults(event.embedding())
        : null;
  }

  static String short12(String sha256) {
    return sha256.substring(0, 12);
  }
}
