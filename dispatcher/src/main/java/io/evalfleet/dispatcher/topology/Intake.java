package io.evalfleet.dispatcher.topology;

import com.fasterxml.jackson.databind.JsonNode;
import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.archive.EvaluationLock;
import io.evalfleet.common.contract.ChangeKind;
import io.evalfleet.common.contract.ContractViolation;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.RowOrder;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.failure.FailureKind;
import io.evalfleet.common.failure.Failures;
import io.evalfleet.common.failure.InputException;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.subset.GoldenSubsetFile;
import io.evalfleet.common.task.CausalLmTask;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.RetrievalTask;
import io.evalfleet.common.task.SubsetLayout;
import io.evalfleet.common.task.Task;
import io.evalfleet.dispatcher.baseline.BaselineRecord;
import io.evalfleet.dispatcher.decision.ChangePolicy;
import io.evalfleet.dispatcher.decision.Decider;
import io.evalfleet.dispatcher.decision.JudgedChange;
import io.evalfleet.dispatcher.decision.Policy;
import io.evalfleet.dispatcher.plan.RetrievalPlanner;
import io.evalfleet.dispatcher.plan.RowLengths;
import io.evalfleet.dispatcher.plan.Shard;
import io.evalfleet.dispatcher.plan.ShardPlanner;
import io.evalfleet.dispatcher.preflight.Preflight;
import io.evalfleet.dispatcher.run.FirstVersions;
import io.evalfleet.dispatcher.run.RunState;
import io.evalfleet.dispatcher.run.ShardState;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes a staged event in: rejects what cannot be evaluated (ERROR, and a dead letter), fixes the
 * baseline it will be compared with (the production version now, or, for a model's first version,
 * the first one staged), pre-flights its files, plans its shards and starts the run. Pre-flight
 * reads storage on the stream thread: when storage cannot be reached, it is tried again later by
 * the wall-clock tick, until the run's deadline. What follows (a run to refuse, to start, or to
 * settle from reused scores) it returns to the processor as {@link Preflighted}.
 */
final class Intake {
  private static final Logger log = LoggerFactory.getLogger(Intake.class);

  /** What taking an event in, or pre-flighting its run, came to. */
  sealed interface Preflighted permits Ignored, Waiting, Refused, Scoring, Reused {}

  /** Not a run: a duplicate, or rejected (flagged ERROR and dead-lettered here). */
  record Ignored() implements Preflighted {}

  /** Storage could not be reached: the tick pre-flights the run again. */
  record Waiting(RunState run) implements Preflighted {}

  /**
   * The run cannot be evaluated: it ends ERROR with {@code reason} (its event is dead-lettered,
   * where so).
   */
  record Refused(RunState run, String reason) implements Preflighted {}

  /** The run's shards are planned and stored: its jobs may be published. */
  record Scoring(RunState run) implements Preflighted {}

  /** The scores of an identical evaluation are reused: the run is complete, to be settled. */
  record Reused(RunState run) implements Preflighted {}

  private static final Preflighted IGNORED = new Ignored();

  private final RunBook book;
  private final Dispatching dispatching;

  Intake(RunBook book) {
    this.book = book;
    this.dispatching = book.dispatching;
  }

  Preflighted onStaged(Record<String, byte[]> record, RecordMetadata source) {
    StagedWeightEvent event;
    try {
      if (record.value() != null && record.value().length > StagedWeightEvent.MAX_BYTES) {
        throw new ContractViolation(
            "",
            "message is "
                + record.value().length
                + " bytes; a staged event may be at most "
                + StagedWeightEvent.MAX_BYTES);
      }
      event = Json.read(record.value(), StagedWeightEvent.class);
    } catch (ContractViolation e) {
      reject(record, source, e);
      return IGNORED;
    }
    String runId = RunState.runIdOf(event.eventId());
    if (book.isDecided(runId) || book.run(runId) != null) {
      log.info(
          "event {} is already being evaluated or decided ({}); ignoring the duplicate",
          event.eventId(),
          runId);
      return IGNORED;
    }
    Instant now = book.now();
    Optional<BaselineRecord> production = book.productionBaseline(event.model());
    BaselineRecord fixed = null;
    if (production.isPresent()
        && (event.baseline().equals(StagedWeightEvent.PRODUCTION)
            || event.baseline().equals(production.get().version()))) {
      fixed = production.get();
    } else if (production.isEmpty() && event.baseline().equals(StagedWeightEvent.PRODUCTION)) {
      FirstVersions first =
          Optional.ofNullable(book.firstVersions(event.model())).orElseGet(FirstVersions::new);
      first.staged(runId);
      book.saveFirstVersions(event.model(), first);
    }
    RunState run = new RunState(event, now, now.plus(dispatching.runDeadline), fixed);
    book.save(run);
    return preflight(run, new Source(source.topic(), source.partition(), source.offset(), record));
  }

  /**
   * Where a staged event came from, for its dead letter; null when pre-flight is tried again later.
   */
  record Source(String topic, int partition, long offset, Record<String, byte[]> record) {}

  /**
   * Pre-flights a run: it starts scoring, or is decided at once (rejected: ERROR; scores reused
   * from the archive), or waits for storage to come back.
   */
  Preflighted preflight(RunState run, Source source) {
    StagedWeightEvent event = run.event();
    Preflight.Checked checked;
    long[] rowTokens;
    try {
      checked = dispatching.preflight.check(event);
      rowTokens = rowTokens(event, checked);
    } catch (Preflight.Rejected | IOException | RuntimeException e) {
      if (!(e instanceof Preflight.Rejected) && Failures.kindOf(e) == FailureKind.UNAVAILABLE) {
        return preflightLater(run, e.getMessage() != null ? e.getMessage() : e.toString());
      }
      String reason =
          e instanceof Preflight.Rejected
              ? e.getMessage()
              : "pre-flight failed: " + Failures.describe(e);
      byte[] value = source != null ? source.record().value() : Json.write(event);
      book.deadLetter(
          Topics.STAGED,
          source != null ? source.partition() : -1,
          source != null ? source.offset() : -1,
          event.model(),
          value,
          source != null ? source.record().headers() : null,
          e);
      return new Refused(run, reason);
    }
    GoldenSubsetFile subset = checked.footer();
    List<Shard> plan;
    RetrievalPlanner.Plan retrieval = null;
    RowOrder order = null;
    if (event.task() == Task.RETRIEVAL) {
      try {
        retrieval =
            dispatching.retrievalPlanner.plan(
                dispatching.preflight.storage(),
                subset.uri(),
                subset.schema(),
                checked.layout().column(RetrievalTask.ROLE),
                subset.rowCount());
      } catch (IOException | RuntimeException e) {
        if (Failures.kindOf(e) == FailureKind.UNAVAILABLE) {
          return preflightLater(run, e.getMessage() != null ? e.getMessage() : e.toString());
        }
        return new Refused(
            run,
            e instanceof InputException
                ? e.getMessage()
                : "pre-flight failed: " + Failures.describe(e));
      }
      plan = retrieval.shards();
      run.planned(plan.size(), retrieval.scoredRows(), subset.rowCount());
    } else {
      order =
          dispatching.rowOrder(event.task(), event.goldenSubset().sha256(), subset.rowGroupSizes());
      plan =
          order != null
              ? dispatching.planner.plan(order, rowTokens)
              : rowTokens == null
                  ? dispatching.planner.plan(subset.rowGroupSizes())
                  : dispatching.planner.plan(subset.rowGroupSizes(), rowTokens);
      run.planned(plan.size(), subset.rowCount());
    }
    FirstInLine first = firstInLine(run);
    Optional<String> refused = gates(run, checked.layout(), first);
    if (refused.isPresent()) {
      return new Refused(run, refused.get());
    }
    if (retrieval != null) {
      run.retrieval(retrievalPlan(run, retrieval, first));
    }
    Optional<EvaluationArchive.ArchivedScores> reusable = archivedScores(run);
    if (reusable.isPresent()) {
      log.info(
          "run {} for {} {}: reusing the scores of an identical evaluation ({})",
          run.runId(),
          event.model(),
          event.version(),
          reusable.get().uri());
      run.reuse(reusable.get().uri());
      book.save(run);
      return new Reused(run);
    }
    run.order(order);
    for (Shard shard : plan) {
      book.saveShard(
          ScoringJob.jobId(run.runId(), shard.index()),
          new ShardState(shard.index(), shard.start(), shard.count()));
    }
    book.save(run);
    log.info(
        "run {} for {} {}: {} rows in {} shards{}",
        run.runId(),
        event.model(),
        event.version(),
        run.rowsTotal(),
        plan.size(),
        run.baseline().map(b -> ", compared with version " + b.version()).orElse(""));
    book.progressed(run);
    return new Scoring(run);
  }

  /**
   * Pre-flight could not reach storage: try again after a pause (the deadline ends it as
   * INCOMPLETE).
   */
  private Preflighted preflightLater(RunState run, String failure) {
    Instant next = book.now().plus(Dispatching.unavailableBackoff(run.preflightRetries()));
    if (next.isAfter(run.deadline())) {
      next = run.deadline();
    }
    log.warn(
        "pre-flight of {} {} ({}): {}; trying again at {}",
        run.event().model(),
        run.event().version(),
        run.runId(),
        failure,
        next);
    run.preflightLater(next, failure);
    book.save(run);
    return new Waiting(run);
  }

  /**
   * Each row's work in tokens, for a causal LM's token budget per job; null for tasks bounded by
   * rows only.
   */
  private long[] rowTokens(StagedWeightEvent event, Preflight.Checked checked) throws IOException {
    if (event.task() != Task.CAUSAL_LM) {
      return null;
    }
    SubsetLayout layout = checked.layout();
    String column =
        layout.has(CausalLmTask.INPUT_IDS)
            ? layout.column(CausalLmTask.INPUT_IDS)
            : layout.column(CausalLmTask.TEXT);
    GoldenSubsetFile subset = checked.footer();
    long[] lengths =
        RowLengths.read(
            dispatching.preflight.storage(),
            subset.uri(),
            subset.schema(),
            column,
            subset.rowCount());
    int maxSeqLen = event.maxSeqLen();
    int stride = event.task().spec().stride(event.maxSeqLen(), event.stride());
    for (int i = 0; i < lengths.length; i++) {
      lengths[i] = ShardPlanner.windowedTokens(lengths[i], maxSeqLen, stride);
    }
    return lengths;
  }

  /**
   * Pre-flight gates against the baseline, before anything is scored: an adapter trained on another
   * base model is not comparable (ERROR); under a changed tokenizer, perplexity counts tokens of
   * another vocabulary, so bits per byte is compared instead (ERROR when the subset has no text).
   */
  private Optional<String> gates(RunState run, SubsetLayout layout, FirstInLine first) {
    StagedWeightEvent event = run.event();
    Optional<BaselineRecord> found = run.baseline();
    if (found.isEmpty() && !event.baseline().equals(StagedWeightEvent.PRODUCTION)) {
      found =
          Decision.archivedVersion(
              dispatching,
              event.model(),
              event.baseline()); // unknown versions fail when the run concludes
      found.ifPresent(run::namedBaseline);
    }
    if (found.isEmpty() && first != null) {
      found = Optional.of(first.baseline());
      if (first.scoring() != null) {
        run.provisionalBaseline(first.baseline().version(), first.scoring().runId());
      }
    }
    if (found.isEmpty()) {
      return Optional.empty();
    }
    BaselineRecord baseline = found.get();
    JudgedChange judged =
        JudgedChange.of(event, dispatching.policy, () -> baselinePrecision(baseline, first));
    run.judgeAs(judged.kind());
    run.note(judged.why());
    if (event.baseModelSha256() != null) {
      String baselineBase =
          baseline.baseModelSha256() != null
              ? baseline.baseModelSha256()
              : baseline.artifactSha256();
      if (!event.baseModelSha256().equals(baselineBase)) {
        return Optional.of(
            "adapter gate: version "
                + event.version()
                + " is an adapter on base model "
                + Decision.short12(event.baseModelSha256())
                + ", but baseline version "
                + baseline.version()
                + " is built on "
                + Decision.short12(baselineBase)
                + "; an adapter is only comparable with a baseline on the same base model");
      }
    }
    String tokenizer = event.tokenizer() == null ? null : event.tokenizer().sha256();
    if (tokenizer != null
        && baseline.tokenizerSha256() != null
        && !tokenizer.equals(baseline.tokenizerSha256())) {
      String change =
          "tokenizer changed (baseline "
              + Decision.short12(baseline.tokenizerSha256())
              + ", candidate "
              + Decision.short12(tokenizer)
              + ")";
      if (event.task() == Task.CAUSAL_LM) {
        if (!layout.has(CausalLmTask.TEXT)) {
          return Optional.of(
              "tokenizer gate: "
                  + change
                  + " and the golden subset holds token ids, not text:"
                  + " neither perplexity nor bits per byte can be compared with the baseline");
        }
        run.exclude(
            MetricNames.PERPLEXITY,
            change
                + ": perplexity counts tokens of different vocabularies;"
                + " bits per byte is compared instead");
      } else {
        run.note(change + "; embeddings are compared as the models' outputs on the same texts");
      }
    }
    if (event.task() == Task.CAUSAL_LM) {
      if (!Objects.equals(tokenizer, baseline.tokenizerSha256())) {
        run.note(
            "token shift not measured: the tokenizer changed, so the two models' next-token distributions are"
                + " over different vocabularies");
      } else if (baseline.artifact() == null) {
        run.note(
            "token shift not measured: the record of baseline version "
                + baseline.version()
                + " does not name its model file (it was pinned before records kept it)");
      } else {
        shiftReference(run, baseline, judged.kind());
      }
    }
    return Optional.empty();
  }

  /**
   * Runs the baseline beside the candidate for the token shift when a token-shift metric gates for
   * the run's kind of change, or the policy asks for it always; otherwise the shift would decide
   * nothing, and each job runs the candidate alone (one forward pass instead of two).
   */
  private void shiftReference(RunState run, BaselineRecord baseline, ChangeKind kind) {
    Policy policy = dispatching.policy;
    String model = run.event().model();
    List<String> gating = policy.gating(Decider.TOKEN_SHIFT, kind);
    if (!gating.isEmpty() || policy.changes().tokenShift(model) == ChangePolicy.TokenShift.ALWAYS) {
      run.shiftAgainst(baseline);
      return;
    }
    List<String> gatedElsewhere =
        Decider.TOKEN_SHIFT.stream()
            .filter(m -> policy.metrics().containsKey(m) && policy.metrics().get(m).gate())
            .toList();
    run.note(
        "token shift not measured: for change kind "
            + kind.wireName()
            + " policy "
            + policy.policyVersion()
            + (gatedElsewhere.isEmpty()
                ? " gates none of " + String.join(", ", Decider.TOKEN_SHIFT)
                : " does not gate "
                    + String.join(", ", gatedElsewhere)
                    + " (only for "
                    + policy.metrics().get(gatedElsewhere.get(0)).gateForNames()
                    + ")")
            + ", so each job ran the candidate alone, one forward pass instead of two"
            + " (\"token_shift\": \"always\" in the policy measures it anyway)");
  }

  /**
   * The precision baseline {@code baseline} was evaluated at: from the event of a first version
   * still being scored, else from its lockfile.
   */
  private JudgedChange.BaselinePrecision baselinePrecision(
      BaselineRecord baseline, FirstInLine first) {
    if (first != null
        && first.scoring() != null
        && first.baseline().version().equals(baseline.version())) {
      return new JudgedChange.BaselinePrecision(
          baseline.version(), first.scoring().event().quantizationBits(), null);
    }
    try {
      Optional<EvaluationLock> lock =
          dispatching.archive.lock(baseline.model(), baseline.version());
      return lock.isPresent()
          ? new JudgedChange.BaselinePrecision(
              baseline.version(), lock.get().quantizationBits(), null)
          : new JudgedChange.BaselinePrecision(
              baseline.version(), null, "its lockfile is not in the archive");
    } catch (IOException | RuntimeException e) {
      return new JudgedChange.BaselinePrecision(
          baseline.version(), null, "its lockfile cannot be read: " + e.getMessage());
    }
  }

  /**
   * For a run staged while its model had no baseline: the version it will be compared with, the
   * model's first staged. When that version is not decided yet, its record is made from its staged
   * event (what pre-flight, the token shift and the index need is known at staging) and its run,
   * which is in this task since runs are partitioned by model, comes with it.
   *
   * @param baseline the version's record: as pinned, or as made from its event (no scores yet)
   * @param scoring its run while it is not decided, else null
   */
  record FirstInLine(BaselineRecord baseline, RunState scoring) {}

  /**
   * The first version a run waits for, or null: the run has another baseline, or is itself first in
   * line.
   */
  private FirstInLine firstInLine(RunState run) {
    StagedWeightEvent event = run.event();
    if (run.baseline().isPresent() || !event.baseline().equals(StagedWeightEvent.PRODUCTION)) {
      return null;
    }
    FirstVersions first = book.firstVersions(event.model());
    if (first == null || !first.contains(run.runId())) {
      return null;
    }
    if (first.pinned().isPresent()) {
      return new FirstInLine(first.pinned().get(), null);
    }
    RunState head = first.head().filter(id -> !id.equals(run.runId())).map(book::run).orElse(null);
    if (head == null) {
      return null;
    }
    StagedWeightEvent staged = head.event();
    BaselineRecord baseline =
        BaselineRecord.builder()
            .model(staged.model())
            .version(staged.version())
            .runId(head.runId())
            .artifactSha256(staged.artifact().sha256())
            .subsetSha256(staged.goldenSubset().sha256())
            .tokenizerSha256(staged.tokenizer() == null ? null : staged.tokenizer().sha256())
            .baseModelSha256(staged.baseModelSha256())
            .metrics(Map.of())
            .commit(staged.commit())
            .embedding(Decision.conventionsOf(staged))
            .artifact(staged.artifact())
            .build();
    return new FirstInLine(baseline, head);
  }

  /**
   * A retrieval run's plan: its own embeddings folder, and the baseline's, whose corpus its queries
   * are also ranked against. A first version still being scored writes its embeddings where its
   * scores will be archived; this run's jobs wait until it is scored in full.
   */
  private RunState.RetrievalPlan retrievalPlan(
      RunState run, RetrievalPlanner.Plan retrieval, FirstInLine first) {
    StagedWeightEvent event = run.event();
    String own = dispatching.archive.embeddingsPath(Decision.scoreKey(run)).toString();
    Optional<BaselineRecord> against =
        run.baseline()
            .or(run::namedBaseline)
            .or(() -> Optional.ofNullable(first).map(FirstInLine::baseline));
    String baselineEmbeddings = null;
    String waitFor = null;
    if (against.isPresent() && against.get().subsetSha256().equals(event.goldenSubset().sha256())) {
      if (first != null && first.scoring() != null) {
        baselineEmbeddings =
            dispatching.archive.embeddingsPath(Decision.scoreKey(first.scoring())).toString();
        waitFor = first.scoring().runId();
      } else if (against.get().scores() != null) {
        baselineEmbeddings = EvaluationArchive.embeddingsOf(against.get().scores()).toString();
      }
    }
    return new RunState.RetrievalPlan(
        retrieval.queriesFrom(),
        own,
        baselineEmbeddings,
        dispatching.recallAt,
        new RunState.IndexReference(against.map(BaselineRecord::version).orElse(null), waitFor));
  }

  /** Scores archived by an identical earlier evaluation, if any. */
  private Optional<EvaluationArchive.ArchivedScores> archivedScores(RunState run) {
    if (!dispatching.reuseScores) {
      return Optional.empty();
    }
    StagedWeightEvent event = run.event();
    try {
      return dispatching.archive.scores(Decision.scoreKey(run));
    } catch (IOException | RuntimeException e) {
      log.warn(
          "cannot look up archived scores of {} {} (scoring it instead): {}",
          event.model(),
          event.version(),
          e.toString());
      return Optional.empty();
    }
  }

  /** A staged record that is not a valid event: one ERROR flag naming why, and a dead letter. */
  private void reject(
      Record<String, byte[]> record, RecordMetadata source, ContractViolation violation) {
    String eventId =
        StagedWeightEvent.eventIdOf(
            record.value(), source.topic(), source.partition(), source.offset());
    JsonNode tree = null;
    try {
      tree =
          record.value() == null || record.value().length > StagedWeightEvent.MAX_BYTES
              ? null
              : Json.mapper().readTree(record.value());
    } catch (IOException | RuntimeException e) {
      // not JSON at all: the record's key names the model, if anything does
    }
    DriftFlag.Builder flag = FlagFromEvent.ofRejected(eventId, tree, record.key());
    String model = FlagFromEvent.modelOfRejected(tree, record.key());
    String runId = RunState.runIdOf(eventId);
    if (book.isDecided(runId)) {
      return;
    }
    book.deadLetter(
        source.topic(),
        source.partition(),
        source.offset(),
        model,
        record.value(),
        record.headers(),
        violation);
    String reason = "staged event rejected: " + violation.getMessage();
    log.warn(
        "{} (event {}, {}-{}@{})",
        reason,
        eventId,
        source.topic(),
        source.partition(),
        source.offset());
    book.publish(
        runId,
        flag.runId(runId)
            .flag(Flag.ERROR)
            .metrics(Map.of())
            .reasons(List.of(reason))
            .executionProviders(List.of())
            .decidedAt(book.now())
            .build(),
        model);
  }
}
