package io.evalfleet.scoring.perplexity;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.task.CausalLmTask;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.SubsetLayout;
import io.evalfleet.common.task.Task;
import io.evalfleet.common.task.TokenSketch;
import io.evalfleet.scoring.Scored;
import io.evalfleet.scoring.ScoringException;
import io.evalfleet.scoring.TaskScorer;
import io.evalfleet.scoring.model.LoadedModel;
import io.evalfleet.scoring.model.ModelSessions;
import io.evalfleet.scoring.subset.SubsetReader;
import io.evalfleet.scoring.subset.TokenIds;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores golden-subset rows with a causal LM: per row, the sum of the negative log-likelihood of
 * every token but the first given its prefix, and the number of tokens scored (plus the row's UTF-8
 * bytes when it is text). Rows longer than {@code max_seq_len} are scored with the strided sliding
 * window; windows are batched by length. A row's score does not depend on its batch: each model is
 * probed once, and one whose scores move with batching is run one window at a time. Thread-safe.
 */
public final class CausalLmScorer implements TaskScorer {
  private static final Logger log = LoggerFactory.getLogger(CausalLmScorer.class);
  static final double INVARIANCE_TOLERANCE = 1e-6;

  /** {@code batching} of a model whose windows are batched by length (it is batch-invariant). */
  public static final String LENGTH_BUCKETS = "length-buckets";

  /** {@code batching} of a model whose scores move with their batch: each window runs alone. */
  public static final String ONE_WINDOW_AT_A_TIME = "one-window-at-a-time";

  private final ModelSessions sessions;
  private final SubsetReader subsets;
  private final int batchSize;
  private final long logitsBudget;

  /** Per model digest, whether its scores are batch-invariant (probed once per model). */
  private final Cache<String, Boolean> batchInvariant =
      Caffeine.newBuilder().maximumSize(1_000).build();

  /** Batches of at most {@code batchSize} windows, the default logits budget. */
  public CausalLmScorer(ModelSessions sessions, SubsetReader subsets, int batchSize) {
    this(sessions, subsets, batchSize, DEFAULT_LOGITS_BUDGET);
  }

  /** The default of {@code worker.logits-budget}: 2^24 logits, 64 MiB of float32. */
  public static final long DEFAULT_LOGITS_BUDGET = 1L << 24;

  /**
   * @param logitsBudget most logits one forward pass may produce (windows × longest window ×
   *     vocabulary), so that a large vocabulary gets smaller batches
   */
  public CausalLmScorer(
      ModelSessions sessions, SubsetReader subsets, int batchSize, long logitsBudget) {
    this.sessions = sessions;
    this.subsets = subsets;
    this.batchSize = batchSize;
    this.logitsBudget = logitsBudget;
  }

  /** Per-row sums and counts, with how the rows were batched. */
  public record Scores(double[] nllSum, double[] tokens, String batching, double paddingRatio) {}

  @Override
  public Task task() {
    return Task.CAUSAL_LM;
  }

  /**
   * Per row: {@code nll_sum}, {@code tokens}, and {@code bytes} for text rows; with a reference
   * model also the token shift ({@code kl_sum}, {@code top1_agree}, {@code dp_true_sum}, and the
   * sketch of every token's KL).
   */
  @Override
  public Scored score(ScoringJob job) throws ScoringException {
    // The job's constructor has checked max_seq_len and stride against the task's spec.
    int maxLen = job.maxSeqLen();
    int stride = job.task().spec().stride(job.maxSeqLen(), job.stride());
    Rows rows = readRows(job);
    if (job.reference() != null) {
      return scoreShift(job, rows, maxLen, stride);
    }
    try (ModelSessions.Lease lease = sessions.lease(job.artifact())) {
      LoadedModel model = lease.model();
      validate(rows.ids, NllForward.checkSignature(model), job.rowStart());
      return alone(model, rows, maxLen, stride, job.rowStart());
    }
  }

  private Scored alone(LoadedModel model, Rows rows, int maxLen, int stride, long firstRow)
      throws ScoringException {
    Scores scores = scoreRows(model, rows.ids, maxLen, stride, firstRow);
    Map<String, double[]> values = new LinkedHashMap<>();
    values.put(MetricNames.NLL_SUM, scores.nllSum());
    values.put(MetricNames.TOKENS, scores.tokens());
    if (rows.bytes != null) {
      values.put(MetricNames.BYTES, rows.bytes);
    }
    return new Scored(
        values,
        scores.batching(),
        scores.paddingRatio(),
        model.executionProvider(),
        model.signature());
  }

  /**
   * The candidate scored beside its baseline. Models over different vocabularies have different
   * signatures, which the dispatcher's signature gate judges (RED): the candidate is then scored
   * alone, without a token shift, rather than failing the job.
   */
  private Scored scoreShift(ScoringJob job, Rows rows, int maxLen, int stride)
      throws ScoringException {
    try (ModelSessions.Lease candidateLease = sessions.lease(job.artifact());
        ModelSessions.Lease baselineLease = sessions.lease(job.reference())) {
      LoadedModel candidate = candidateLease.model();
      LoadedModel baseline = baselineLease.model();
      long vocabulary = NllForward.checkSignature(candidate);
      long baselineVocabulary = NllForward.checkSignature(baseline);
      validate(rows.ids, vocabulary, job.rowStart());
      if (vocabulary != baselineVocabulary) {
        log.warn(
            "job {}: the baseline {} predicts over {} tokens and the candidate over {}; scoring the candidate"
                + " alone, without a token shift",
            job.jobId(),
            job.reference().uri(),
            baselineVocabulary,
            vocabulary);
        return alone(candidate, rows, maxLen, stride, job.rowStart());
      }
      Shifts shifts = shiftRows(baseline, candidate, rows.ids, maxLen, stride, job.rowStart());
      Map<String, double[]> values = new LinkedHashMap<>();
      values.put(MetricNames.NLL_SUM, shifts.nllSum());
      values.put(MetricNames.TOKENS, shifts.tokens());
      if (rows.bytes != null) {
        values.put(MetricNames.BYTES, rows.bytes);
      }
      values.put(MetricNames.KL_SUM, shifts.klSum());
      values.put(MetricNames.TOP1_AGREE, shifts.agreements());
      values.put(MetricNames.DP_TRUE_SUM, shifts.dpTrueSum());
      return new Scored(
          values,
          shifts.batching(),
          shifts.paddingRatio(),
          candidate.executionProvider(),
          candidate.signature(),
          Map.of(MetricNames.KL_TOKENS, shifts.kl().encode()));
    }
  }

  /**
   * Per-row sums of a token shift, the candidate's NLL among them, and the sketch of every token's
   * KL.
   */
  public record Shifts(
      double[] nllSum,
      double[] tokens,
      double[] klSum,
      double[] agreements,
      double[] dpTrueSum,
      TokenSketch kl,
      String batching,
      double paddingRatio) {}

  /**
   * Runs both models on the same windows of token rows (each at least 2 tokens, all ids in the
   * vocabulary) and compares their next-token distributions token by token; batches hold half the
   * logits of a single model's, since both models' logits are alive at once.
   */
  public Shifts shiftRows(
      LoadedModel baseline,
      LoadedModel candidate,
      long[][] rows,
      int maxLen,
      int stride,
      long firstRow)
      throws ScoringException {
    NllForward forward = new NllForward(sessions.environment(), sessions::nllHead);
    TokenShiftHead head = new TokenShiftHead(sessions.environment(), sessions.tokenShiftHead());
    boolean invariant =
        isBatchInvariant(candidate, forward, rows[0], maxLen)
            && isBatchInvariant(baseline, forward, rows[0], maxLen);
    List<Window> windows = new ArrayList<>();
    for (int r = 0; r < rows.length; r++) {
      windows.addAll(Windows.plan(r, rows[r].length, maxLen, stride));
    }
    List<List<Window>> batches =
        LengthBatches.plan(
            windows,
            invariant ? batchSize : 1,
            tokenSlots(
                invariant ? batchSize : 1,
                maxLen,
                NllForward.checkSignature(candidate),
                logitsBudget / 2));
    double[] nll = new double[rows.length];
    double[] tokens = new double[rows.length];
    double[] kl = new double[rows.length];
    double[] agree = new double[rows.length];
    double[] dp = new double[rows.length];
    TokenSketch sketch = TokenSketch.empty();
    for (List<Window> batch : batches) {
      NllForward.WindowShift[] shifts = forward.shift(baseline, candidate, batch, rows, head);
      for (int i = 0; i < shifts.length; i++) {
        Window window = batch.get(i);
        NllForward.WindowShift shift = shifts[i];
        if (!Double.isFinite(shift.nllSum()) || !Double.isFinite(shift.klSum())) {
          throw ScoringException.input(
              "row "
                  + (firstRow + window.row())
                  + ": the token shift is not finite (NLL "
                  + shift.nllSum()
                  + ", KL "
                  + shift.klSum()
                  + "): a model's logits contain NaN or infinity");
        }
        nll[window.row()] += shift.nllSum();
        tokens[window.row()] += window.scored();
        kl[window.row()] += shift.klSum();
        agree[window.row()] += shift.agreements();
        dp[window.row()] += shift.dpTrueSum();
        for (float value : shift.kl()) {
          sketch.add(value);
        }
      }
    }
    return new Shifts(
        nll,
        tokens,
        kl,
        agree,
        dp,
        sketch,
        invariant ? LENGTH_BUCKETS : ONE_WINDOW_AT_A_TIME,
        LengthBatches.paddingRatio(batches));
  }

  /**
   * Scores token rows (each at least 2 tokens, all ids in the vocabulary).
   *
   * @param firstRow the subset row number of {@code rows[0]}, for error messages
   */
  public Scores scoreRows(LoadedModel model, long[][] rows, int maxLen, int stride, long firstRow)
      throws ScoringException {
    NllForward forward = new NllForward(sessions.environment(), sessions::nllHead);
    boolean invariant = isBatchInvariant(model, forward, rows[0], maxLen);
    List<Window> windows = new ArrayList<>();
    for (int r = 0; r < rows.length; r++) {
      windows.addAll(Windows.plan(r, rows[r].length, maxLen, stride));
    }
    List<List<Window>> batches =
        LengthBatches.plan(
            windows,
            invariant ? batchSize : 1,
            tokenSlots(
                invariant ? batchSize : 1, maxLen, NllForward.checkSignature(model), logitsBudget));
    double[] nll = new double[rows.length];
    double[] tokens = new double[rows.length];
    for (List<Window> batch : batches) {
      double[] sums = forward.run(model, batch, rows);
      for (int i = 0; i < sums.length; i++) {
        Window window = batch.get(i);
        if (!Double.isFinite(sums[i])) {
          throw ScoringException.input(
              "row "
                  + (firstRow + window.row())
                  + ": the model produced a non-finite"
                  + " log-likelihood ("
                  + sums[i]
                  + "): its logits contain NaN or infinity");
        }
        nll[window.row()] += sums[i];
        tokens[window.row()] += window.scored();
      }
    }
    for (int r = 0; r < rows.length; r++) {
      if (tokens[r] != rows[r].length - 1) {
        throw new IllegalStateException(
            "row "
                + (firstRow + r)
                + ": scored "
                + tokens[r]
                + " of "
                + (rows[r].length - 1)
                + " tokens");
      }
    }
    return new Scores(
        nll,
        tokens,
        invariant ? LENGTH_BUCKETS : ONE_WINDOW_AT_A_TIME,
        LengthBatches.paddingRatio(batches));
  }

  /**
   * Token slots one batch may hold: {@code batch × maxLen}, fewer when the logits of that many
   * slots (slots × vocabulary) would exceed the budget; always room for one window.
   */
  public static int tokenSlots(int batch, int maxLen, long vocabulary, long logitsBudget) {
    long slots = (long) batch * maxLen;
    if (vocabulary > 0) {
      slots = Math.min(slots, Math.max(maxLen, logitsBudget / vocabulary));
    }
    return (int) slots;
  }

  /**
   * How this scorer batches {@code model}'s windows, as a job's {@link Scored#batching()} reports
   * it: {@link #LENGTH_BUCKETS}, or {@link #ONE_WINDOW_AT_A_TIME} for a model whose scores move
   * with their batch. Decided by the same probe as a job's (once per model; {@code sample} is the
   * row it pads against, as a job's first row is).
   */
  public String batching(LoadedModel model, long[] sample, int maxLen) throws ScoringException {
    return isBatchInvariant(
            model, new NllForward(sessions.environment(), sessions::nllHead), sample, maxLen)
        ? LENGTH_BUCKETS
        : ONE_WINDOW_AT_A_TIME;
  }

  private boolean isBatchInvariant(LoadedModel model, NllForward forward, long[] sample, int maxLen)
      throws ScoringException {
    Boolean known = batchInvariant.getIfPresent(model.sha256());
    if (known != null) {
      return known;
    }
    int n = Math.min(sample.length, maxLen);
    long[] longer = new long[maxLen];
    for (int i = 0; i < maxLen; i++) {
      longer[i] = sample[i % sample.length];
    }
    long[][] rows = {Arrays.copyOf(sample, n), longer};
    double alone = forward.run(model, List.of(new Window(0, 0, n, 1)), rows)[0];
    double padded =
        forward.run(model, List.of(new Window(1, 0, maxLen, 1), new Window(0, 0, n, 1)), rows)[1];
    double difference = Math.abs(alone - padded) / Math.max(1e-12, Math.abs(alone));
    boolean invariant = !(difference > INVARIANCE_TOLERANCE); // NaN: decided later, row by row
    log.info(
        "causal LM {}: NLL {} batch-invariant (relative difference {}): {}",
        model.sha256().substring(0, 12),
        invariant ? "is" : "is NOT",
        difference,
        invariant ? "batching by length" : "one window at a time");
    batchInvariant.put(model.sha256(), invariant);
    return invariant;
  }

  private record Rows(long[][] ids, double[] bytes) {}

  private Rows readRows(ScoringJob job) throws ScoringException {
    SubsetLayout layout = TaskScorer.layout(subsets, job);
    boolean pretokenized = layout.has(CausalLmTask.INPUT_IDS);
    // The layout has checked that text rows come with a tokenizer.
    try (ModelSessions.TokenizerLease held =
        pretokenized ? null : sessions.tokenizer(job.tokenizer(), 0)) {
      return readRows(job, layout, held == null ? null : held.tokenizer());
    }
  }

  private Rows readRows(ScoringJob job, SubsetLayout layout, HuggingFaceTokenizer tokenizer)
      throws ScoringException {
    String uri = job.goldenSubset().uri();
    boolean pretokenized = tokenizer == null;
    long[][] ids = new long[job.rowCount()][];
    double[] bytes = pretokenized ? null : new double[job.rowCount()];
    String column = layout.column(pretokenized ? CausalLmTask.INPUT_IDS : CausalLmTask.TEXT);
    HuggingFaceTokenizer encoder = tokenizer;
    int[] at = {0};
    try {
      subsets.read(
          uri,
          List.of(column),
          job,
          record -> {
            int i = at[0]++;
            if (encoder == null) {
              ids[i] = TokenIds.read(record, column);
            } else if (record.getFieldRepetitionCount(column) > 0) {
              String text = record.getString(column, 0);
              ids[i] = encoder.encode(text).getIds();
              bytes[i] = text.getBytes(StandardCharsets.UTF_8).length;
            }
          });
    } catch (IOException e) {
      throw ScoringException.of("reading golden subset " + uri, e);
    }
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] == null) {
        throw ScoringException.input(
            "golden subset "
                + uri
                + ": row "
                + job.fileRows()[i]
                + " has no value in column '"
                + column
                + "'");
      }
    }
    return new Rows(ids, bytes);
  }

  private static void validate(long[][] rows, long vocabulary, long firstRow)
      throws ScoringException {
    for (int r = 0; r < rows.length; r++) {
      long row = firstRow + r;
      if (rows[r].length == 0) {
        throw ScoringException.input("row " + row + " is empty: there is no token to score");
      }
      if (rows[r].length == 1) {
        throw ScoringException.input(
            "row "
                + row
                + " has a single token: perplexity needs at least 2 (the first is never scored)");
      }
      for (int t = 0; t < rows[r].length; t++) {
        long id = rows[r][t];
        if (id < 0 || (vocabulary > 0 && id >= vocabulary)) {
          throw ScoringException.input(
              "row "
                  + row
                  + ": token id "
                  + id
                  + " at position "
                  + t
                  + " is outside the vocabulary (0.."
                  + (vocabulary - 1)
                  + ")");
        }
      }
    }
  }
}
