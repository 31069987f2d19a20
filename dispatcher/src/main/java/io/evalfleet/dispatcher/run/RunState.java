package io.evalfleet.dispatcher.run;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.JsonAutoDetect.Visibility;
import com.fasterxml.jackson.annotation.JsonIgnore;
import io.evalfleet.common.contract.ChangeKind;
import io.evalfleet.common.contract.Coverage;
import io.evalfleet.common.contract.RetrievalStep;
import io.evalfleet.common.contract.RowOrder;
import io.evalfleet.common.contract.ScoringEnvelope;
import io.evalfleet.common.contract.SequentialDecision;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.kafka.JsonSerde;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.dispatcher.baseline.BaselineRecord;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.common.serialization.Serde;

/**
 * One evaluation run in progress, kept in the {@code runs} store under its run id: the staged
 * event, the baseline it was given when it was staged, and counters over its shards (whose own
 * state is in the {@code shards} store). Small and of fixed size whatever the subset's size, since
 * it is rewritten on every result.
 */
@JsonAutoDetect(
    fieldVisibility = Visibility.ANY,
    getterVisibility = Visibility.NONE,
    isGetterVisibility = Visibility.NONE,
    setterVisibility = Visibility.NONE)
public final class RunState {
  public static final Serde<RunState> SERDE = JsonSerde.of(RunState.class);

  public enum Stage {
    /** Pre-flight could not read the event's files: tried again at {@code preflightAt}. */
    PREFLIGHT,
    /** Shards are being scored. */
    SCORING,
    /**
     * Every shard is scored; the version it is compared with (the model's first staged) is not
     * decided yet.
     */
    AWAITING_BASELINE,
    /**
     * Every shard is scored and its baseline known: its statistics are computed off the stream
     * thread.
     */
    DECIDING
  }

  private String runId;
  private StagedWeightEvent event;
  private Instant stagedAt;
  private Instant deadline;
  private Stage stage = Stage.PREFLIGHT;

  /**
   * The production baseline when the event was staged; null when the model had none (or another
   * version is named).
   */
  private BaselineRecord baseline;

  /** The archived version the event names as its baseline, once read. */
  private BaselineRecord namedBaseline;

  /**
   * Causal LM: the baseline its jobs run beside the candidate for the token shift; null for none.
   */
  private BaselineRecord shiftReference;

  /**
   * The kind of change it is judged as against its baseline, once pre-flight found one; null before
   * (and for a model's first version).
   */
  private ChangeKind changeKind;

  /**
   * The version pre-flight checked it against while that version, the model's first staged, was not
   * decided yet (its baseline-to-be), and that version's run; null when the baseline was already
   * fixed.
   */
  private String provisionalBaseline;

  private String provisionalRun;
  private int shardsTotal;

  /** The rows its shards score. */
  private long rowsTotal;

  /** The subset's rows, scored or not (a retrieval subset's judgements are read, not scored). */
  private long rowsInFile;

  /**
   * Retrieval: where its embeddings go and which shards embed the corpus (before {@code
   * queriesFrom}).
   */
  private RetrievalPlan retrieval;

  // Counters over the run's shards: not stored with the run (that would rewrite it on every result)
  // but derived from its shards when a task starts (see restore) and kept current in memory.
  /** The next shard never published, in shard order. */
  @JsonIgnore private int nextShard;

  /** Shards published and unanswered, or paused: they hold the run's share of flow control. */
  @JsonIgnore private int open;

  @JsonIgnore private int shardsDone;
  @JsonIgnore private long rowsScored;

  /** Scores of an identical archived evaluation, used instead of scoring. */
  private String reusedScores;

  /**
   * Under a sequential policy: the seeded order its rows are scored in (its shards hold positions
   * of it, dispatched in order); null when its shards hold file rows.
   */
  private RowOrder order;

  /** Sequential: shards {@code 0 .. prefixShards - 1} are all scored, with {@code prefixRows}. */
  private int prefixShards;

  private long prefixRows;

  /** Sequential: looks made at the completed prefix, and at how many rows the last was. */
  private int looks;

  private long lookedAtRows;

  /** Sequential: RED or GREEN once a look stopped it early; null while it goes on. */
  private SequentialDecision.Stop stopped;

  /** Sequential: what the last look said, or why none was made. */
  private String lookReason;

  /**
   * Once deciding: the baseline it is compared with, or null when it becomes the model's first
   * baseline.
   */
  private BaselineRecord comparedWith;

  private int preflightRetries;
  private Instant preflightAt;
  private String whyWaiting;
  private final List<String> notes = new ArrayList<>();
  private final Map<String, String> notComparable = new LinkedHashMap<>();
  @JsonIgnore private final TreeSet<String> providers = new TreeSet<>();
  @JsonIgnore private final TreeSet<String> runtimes = new TreeSet<>();
  @JsonIgnore private final TreeSet<String> hardware = new TreeSet<>();
  @JsonIgnore private final TreeSet<String> signatures = new TreeSet<>();

  /** The distinct envelopes the done shards were scored under, by their description. */
  @JsonIgnore private final TreeMap<String, ScoringEnvelope> envelopes = new TreeMap<>();

  RunState() {}

  public RunState(
      StagedWeightEvent event, Instant stagedAt, Instant deadline, BaselineRecord baseline) {
    this.runId = runIdOf(event.eventId());
    this.event = event;
    this.stagedAt = stagedAt;
    this.deadline = deadline;
    this.baseline = baseline;
  }

  /**
   * The run id of an event: derived from its event id alone, so a re-delivered event maps to the
   * same run.
   */
  public static String runIdOf(String eventId) {
    var digest = Storage.newDigest().digest(eventId.getBytes(StandardCharsets.UTF_8));
    return "run-" + HexFormat.of().formatHex(digest, 0, 10);
  }

  /** Starts scoring: {@code shards} shards over {@code rows} rows, every row of the subset. */
  public void planned(int shards, long rows) {
    planned(shards, rows, rows);
  }

  /**
   * Starts scoring: {@code shards} shards over {@code rows} of the subset's {@code rowsInFile}
   * rows.
   */
  public void planned(int shards, long rows, long rowsInFile) {
    this.stage = Stage.SCORING;
    this.shardsTotal = shards;
    this.rowsTotal = rows;
    this.rowsInFile = rowsInFile;
    this.preflightAt = null;
  }

  /**
   * A retrieval run's two steps: shards before {@code queriesFrom} embed the corpus into {@code
   * embeddings}; the others score queries, and are published only when every corpus shard is done.
   *
   * @param baselineEmbeddings the baseline's embeddings folder, or null
   * @param index whose embeddings {@code baselineEmbeddings} holds; null in runs stored before it
   *     was kept
   */
  public record RetrievalPlan(
      int queriesFrom,
      String embeddings,
      String baselineEmbeddings,
      List<Integer> recallAt,
      IndexReference index) {}

  /**
   * The version whose corpus embeddings a retrieval run's queries are ranked against (the index as
   * it stands).
   *
   * @param version that version; null when the run has no baseline
   * @param scoringRun while that version, the model's first staged, is still being scored in this
   *     task: its run, which must be scored in full (its docs and queries embedded) before this
   *     run's jobs go out; null when its embeddings are archived
   */
  public record IndexReference(String version, String scoringRun) {}

  public void retrieval(RetrievalPlan plan) {
    this.retrieval = plan;
  }

  /**
   * The run whose embeddings this run's jobs must wait for, if any (see {@link
   * IndexReference#scoringRun}).
   */
  public Optional<String> indexWaitsFor() {
    return Optional.ofNullable(retrieval).map(RetrievalPlan::index).map(IndexReference::scoringRun);
  }

  public Optional<RetrievalPlan> retrieval() {
    return Optional.ofNullable(retrieval);
  }

  /** The retrieval step of shard {@code index}; null for other tasks. */
  public RetrievalStep retrievalStep(int index) {
    if (retrieval == null) {
      return null;
    }
    return new RetrievalStep(
        index < retrieval.queriesFrom() ? RetrievalStep.Phase.CORPUS : RetrievalStep.Phase.QUERIES,
        retrieval.embeddings(),
        retrieval.baselineEmbeddings(),
        retrieval.recallAt());
  }

  /** Whether its next shard scores queries while some of the corpus is not embedded yet. */
  public boolean waitsForCorpus() {
    return retrieval != null
        && hasUnpublished()
        && nextShard >= retrieval.queriesFrom()
        && shardsDone < retrieval.queriesFrom();
  }

  public void preflightLater(Instant at, String why) {
    this.stage = Stage.PREFLIGHT;
    this.preflightAt = at;
    this.preflightRetries++;
    this.whyWaiting = why;
  }

  /**
   * Pre-flights the run again at {@code at}, from scratch: the first version it was checked against
   * ended before any of this run's jobs went out, so it is checked against the next one in line.
   */
  public void preflightAgain(Instant at, String why) {
    this.stage = Stage.PREFLIGHT;
    this.preflightAt = at;
    this.whyWaiting = why;
    this.notes.clear();
    this.notComparable.clear();
    this.shiftReference = null;
    this.changeKind = null;
    this.provisionalBaseline = null;
    this.provisionalRun = null;
    this.retrieval = null;
  }

  /** Whether any of its jobs was ever published. */
  public boolean hasPublished() {
    return nextShard > 0;
  }

  public void awaitBaseline() {
    this.stage = Stage.AWAITING_BASELINE;
  }

  /**
   * Its baseline is known ({@code null}: it becomes the model's first): the statistics may be
   * computed.
   */
  public void decideAgainst(BaselineRecord baseline) {
    this.stage = Stage.DECIDING;
    this.comparedWith = baseline;
  }

  /** Scores every row from an identical archived evaluation instead of scoring. */
  public void reuse(String scores) {
    this.reusedScores = scores;
  }

  public Optional<String> reusedScores() {
    return Optional.ofNullable(reusedScores);
  }

  public Optional<BaselineRecord> comparedWith() {
    return Optional.ofNullable(comparedWith);
  }

  /** Scores its rows in {@code order}: its shards hold positions of it. */
  public void order(RowOrder order) {
    this.order = order;
  }

  public Optional<RowOrder> order() {
    return Optional.ofNullable(order);
  }

  public int prefixShards() {
    return prefixShards;
  }

  public long prefixRows() {
    return prefixRows;
  }

  /** The completed prefix now reaches shard {@code shards}, over {@code rows} rows. */
  public void extendPrefix(int shards, long rows) {
    this.prefixShards = shards;
    this.prefixRows = rows;
  }

  public int looks() {
    return looks;
  }

  public long lookedAtRows() {
    return lookedAtRows;
  }

  /** A look was made at the completed prefix; {@code reason} is what it said. */
  public void looked(String reason) {
    this.looks++;
    this.lookedAtRows = prefixRows;
    this.lookReason = reason;
  }

  /**
   * A look was made at the completed prefix and found that none can stop the run; it spends no α
   * (it is not counted among the looks) but spaces the next one as a look does.
   */
  public void lookedWithoutStopping(String reason) {
    this.lookedAtRows = prefixRows;
    this.lookReason = reason;
  }

  /** No look could be made, for {@code reason} (said in the flag if the run goes to its end). */
  public void notLooked(String reason) {
    this.lookReason = reason;
  }

  /**
   * A look at the completed prefix was conclusive: the run stops scoring and is decided against
   * {@code baseline} from the prefix alone; its jobs still open hold no slot any more.
   */
  public void stop(SequentialDecision.Stop stop, BaselineRecord baseline) {
    this.stopped = stop;
    this.stage = Stage.DECIDING;
    this.comparedWith = baseline;
  }

  /** Whether a look stopped it before its end. */
  public boolean stoppedEarly() {
    return stopped != null;
  }

  /** How a run under a sequential policy came to its flag; empty for a run scored in file order. */
  public Optional<SequentialDecision> sequential() {
    if (order == null) {
      return Optional.empty();
    }
    if (stopped != null) {
      return Optional.of(new SequentialDecision(prefixRows, rowsTotal, looks, stopped, lookReason));
    }
    return Optional.of(
        new SequentialDecision(
            rowsTotal,
            rowsTotal,
            looks,
            SequentialDecision.Stop.END,
            (lookReason == null ? "no look was made" : "no look stopped it (" + lookReason + ")")
                + "; every row scored and decided as a fixed sample"));
  }

  /** Takes the next never-published shard index and counts it as open. */
  public int takeNextShard() {
    open++;
    return nextShard++;
  }

  public boolean hasUnpublished() {
    return stage == Stage.SCORING && nextShard < shardsTotal;
  }

  /** A shard's answer arrived: it no longer holds a slot. */
  public void closed() {
    open--;
  }

  /**
   * Counts one of this run's shards in: when a task starts (each stored shard), and when a shard is
   * scored (its answer closed, then counted done with where it was scored).
   */
  public void count(ShardState shard) {
    if (shard.status() != ShardState.Status.PLANNED) {
      nextShard = Math.max(nextShard, shard.index() + 1);
    }
    switch (shard.status()) {
      case IN_FLIGHT, PAUSED -> open++;
      case DONE -> {
        shardsDone++;
        rowsScored += shard.rowCount();
        addIfPresent(providers, shard.provider());
        addIfPresent(runtimes, shard.runtime());
        addIfPresent(hardware, shard.hardware());
        addIfPresent(signatures, shard.signature());
        if (shard.envelope() != null) {
          envelopes.put(shard.envelope().describe(), shard.envelope());
        }
      }
      case PLANNED -> {}
    }
  }

  /** A copy, counters included, for another thread. */
  public RunState copy() {
    RunState copy =
        SERDE.deserializer().deserialize(null, SERDE.serializer().serialize(null, this));
    copy.nextShard = nextShard;
    copy.open = open;
    copy.shardsDone = shardsDone;
    copy.rowsScored = rowsScored;
    copy.providers.addAll(providers);
    copy.runtimes.addAll(runtimes);
    copy.hardware.addAll(hardware);
    copy.signatures.addAll(signatures);
    copy.envelopes.putAll(envelopes);
    return copy;
  }

  public boolean complete() {
    return stage != Stage.PREFLIGHT && (reusedScores != null || shardsDone == shardsTotal);
  }

  public Coverage coverage() {
    if (stopped != null) {
      return new Coverage(prefixShards, shardsTotal, prefixRows, rowsTotal);
    }
    return reusedScores != null
        ? new Coverage(shardsTotal, shardsTotal, rowsTotal, rowsTotal)
        : new Coverage(shardsDone, shardsTotal, rowsScored, rowsTotal);
  }

  public void whyWaiting(String why) {
    this.whyWaiting = why;
  }

  public Optional<String> whyWaiting() {
    return Optional.ofNullable(whyWaiting);
  }

  /** Marks a metric as not comparable with the baseline (it is reported, but decides nothing). */
  public void exclude(String metric, String why) {
    notComparable.put(metric, why);
  }

  /** Adds a sentence to the flag's reasons. */
  public void note(String sentence) {
    notes.add(sentence);
  }

  public void namedBaseline(BaselineRecord named) {
    this.namedBaseline = named;
  }

  /** Measures the token shift against {@code baseline}: every job runs it beside the candidate. */
  public void shiftAgainst(BaselineRecord baseline) {
    this.shiftReference = baseline;
  }

  /**
   * Pre-flight checked the run against {@code version}, the model's first staged, of run {@code
   * runId}, before it was decided.
   */
  public void provisionalBaseline(String version, String runId) {
    this.provisionalBaseline = version;
    this.provisionalRun = runId;
  }

  /**
   * The undecided first version pre-flight checked the run against, if it was checked against one.
   */
  public Optional<String> provisionalBaseline() {
    return Optional.ofNullable(provisionalBaseline);
  }

  /** The run of {@link #provisionalBaseline()}. */
  public Optional<String> provisionalRun() {
    return Optional.ofNullable(provisionalRun);
  }

  /** Judges the run as a change of {@code kind} to its baseline. */
  public void judgeAs(ChangeKind kind) {
    this.changeKind = kind;
  }

  /** The kind of change it is judged as, once its baseline is known. */
  public Optional<ChangeKind> changeKind() {
    return Optional.ofNullable(changeKind);
  }

  /** The baseline the token shift is measured against, if any. */
  public Optional<BaselineRecord> shiftReference() {
    return Optional.ofNullable(shiftReference);
  }

  private static void addIfPresent(TreeSet<String> set, String value) {
    if (value != null) {
      set.add(value);
    }
  }

  public String runId() {
    return runId;
  }

  public StagedWeightEvent event() {
    return event;
  }

  public Instant stagedAt() {
    return stagedAt;
  }

  public Instant deadline() {
    return deadline;
  }

  public Stage stage() {
    return stage;
  }

  /** The production baseline fixed when the event was staged, if the model had one. */
  public Optional<BaselineRecord> baseline() {
    return Optional.ofNullable(baseline);
  }

  public Optional<BaselineRecord> namedBaseline() {
    return Optional.ofNullable(namedBaseline);
  }

  public int shardsTotal() {
    return shardsTotal;
  }

  public long rowsTotal() {
    return rowsTotal;
  }

  /** The subset's rows: the length of the run's per-row columns. */
  public long rowsInFile() {
    return rowsInFile > 0 ? rowsInFile : rowsTotal;
  }

  /** Its jobs that hold a slot: none once it stopped early (what is still out is cancelled). */
  public int open() {
    return stopped != null ? 0 : open;
  }

  public int preflightRetries() {
    return preflightRetries;
  }

  public Instant preflightAt() {
    return preflightAt;
  }

  public List<String> notes() {
    return List.copyOf(notes);
  }

  public Map<String, String> notComparable() {
    return Map.copyOf(notComparable);
  }

  public List<String> providers() {
    return List.copyOf(providers);
  }

  public List<String> runtimes() {
    return List.copyOf(runtimes);
  }

  public List<String> hardware() {
    return List.copyOf(hardware);
  }

  /** The distinct envelopes the shards were scored under, as the workers reported them. */
  public List<ScoringEnvelope> envelopes() {
    return List.copyOf(envelopes.values());
  }

  /** The model signatures the shards reported: one, unless workers disagree. */
  public List<String> signatures() {
    return List.copyOf(signatures);
  }
}
