package io.evalfleet.scoring.embedding;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.EmbeddingTask;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.SubsetLayout;
import io.evalfleet.common.task.Task;
import io.evalfleet.scoring.Scored;
import io.evalfleet.scoring.ScoringException;
import io.evalfleet.scoring.TaskScorer;
import io.evalfleet.scoring.model.LoadedModel;
import io.evalfleet.scoring.model.ModelSessions;
import io.evalfleet.scoring.subset.Cells;
import io.evalfleet.scoring.subset.SubsetReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores embedding jobs ({@link EmbeddingTask}). Embeds texts with a sentence-embedding model:
 * tokenise, run the ONNX graph, mean-pool the token vectors over the attention mask and
 * L2-normalise.
 *
 * <p>A text's embedding must not depend on which other texts share its batch. Models in fp32 are
 * batch-invariant, but dynamically quantised graphs compute one quantisation scale per batch, so
 * padding and neighbours move the result. Each model is therefore probed once: a text embedded
 * alone and inside a padded batch must agree to {@value #INVARIANCE_TOLERANCE}; if not, that model
 * is run one text at a time. Thread-safe.
 */
public final class EmbeddingScorer implements TaskScorer {
  private static final Logger log = LoggerFactory.getLogger(EmbeddingScorer.class);
  static final double INVARIANCE_TOLERANCE = 1e-6;
  private static final String PROBE_SHORT = "A cat sits on the mat.";
  private static final String PROBE_LONG =
      "Quarterly revenue rose sharply after the company opened three new factories overseas last spring.";

  /** {@code batching} of a batch-invariant model: texts sorted by length, in padded batches. */
  public static final String PADDED_BATCHES = "padded-batches";

  /** {@code batching} of a model whose embeddings move with their batch: each text runs alone. */
  public static final String ONE_AT_A_TIME = "one-at-a-time";

  private final ModelSessions sessions;
  private final SubsetReader subsets;
  private final int batchSize;
  private final int defaultMaxSeqLen;

  /** False only to measure a model's noise floor: then every model runs in padded batches. */
  private final boolean probeBatchInvariance;

  /** Per model digest, whether its scores are batch-invariant (probed once per model). */
  private final Cache<String, Boolean> batchInvariant =
      Caffeine.newBuilder().maximumSize(1_000).build();

  /**
   * @param defaultMaxSeqLen where texts are truncated when a job does not say ({@code
   *     worker.default-max-seq-len})
   */
  public EmbeddingScorer(
      ModelSessions sessions, SubsetReader subsets, int batchSize, int defaultMaxSeqLen) {
    this(sessions, subsets, batchSize, defaultMaxSeqLen, true);
  }

  /**
   * @param probeBatchInvariance false to run every model in padded batches of {@code batchSize},
   *     even one whose embeddings move with their batch: how {@code evalfleet noise-floor} measures
   *     what batching does to a model. A worker always probes.
   */
  public EmbeddingScorer(
      ModelSessions sessions,
      SubsetReader subsets,
      int batchSize,
      int defaultMaxSeqLen,
      boolean probeBatchInvariance) {
    this.probeBatchInvariance = probeBatchInvariance;
    this.sessions = sessions;
    this.subsets = subsets;
    this.batchSize = batchSize;
    this.defaultMaxSeqLen = defaultMaxSeqLen;
  }

  @Override
  public Task task() {
    return Task.EMBEDDING;
  }

  /**
   * Per pair, the cosine of its two texts' embeddings, and the gold score when the subset has one.
   */
  @Override
  public Scored score(ScoringJob job) throws ScoringException {
    String uri = job.goldenSubset().uri();
    SubsetLayout layout = TaskScorer.layout(subsets, job);
    String colA = layout.column(EmbeddingTask.TEXT_A);
    String colB = layout.column(EmbeddingTask.TEXT_B);
    String colGold = layout.optionalColumn(EmbeddingTask.GOLD).orElse(null);
    List<String> columns = colGold != null ? List.of(colA, colB, colGold) : List.of(colA, colB);
    EmbeddingConventions conventions = EmbeddingConventions.orDefaults(job.embedding());
    List<String> texts = new ArrayList<>(job.rowCount() * 2);
    double[] gold = new double[job.rowCount()];
    List<String> problems = new ArrayList<>(1);
    try {
      // The file row of each value (a job of a seeded order holds rows spread over the file).
      long[] fileRows = job.fileRows();
      int[] at = {0};
      long[] row = {fileRows[0]};
      subsets.read(
          uri,
          columns,
          job,
          record -> {
            row[0] = fileRows[at[0]];
            String a = Cells.text(record, colA);
            String b = Cells.text(record, colB);
            if ((a == null || b == null) && problems.isEmpty()) {
              problems.add(
                  "row " + row[0] + " has no value in column '" + (a == null ? colA : colB) + "'");
            }
            // Prompt prefixes are part of the text the model was trained on: prepended before
            // tokenisation.
            texts.add(conventions.prefixA() + (a == null ? "" : a));
            texts.add(conventions.prefixB() + (b == null ? "" : b));
            if (colGold != null) {
              if (record.getFieldRepetitionCount(colGold) == 0) {
                if (problems.isEmpty()) {
                  problems.add("row " + row[0] + " has no value in column '" + colGold + "'");
                }
              } else {
                gold[at[0]] = Cells.number(record, colGold);
              }
            }
            at[0]++;
          });
    } catch (IOException e) {
      throw ScoringException.of("reading golden subset " + uri, e);
    }
    if (!problems.isEmpty()) {
      throw ScoringException.input("golden subset " + uri + ": " + problems.get(0));
    }
    int maxLen = job.maxSeqLen() != null ? job.maxSeqLen() : defaultMaxSeqLen;
    try (ModelSessions.TokenizerLease held = sessions.tokenizer(job.tokenizer(), maxLen);
        ModelSessions.Lease lease = sessions.lease(job.artifact())) {
      HuggingFaceTokenizer tokenizer = held.tokenizer();
      LoadedModel model = lease.model();
      double[][] vectors = embed(model, tokenizer, conventions, texts);
      double[] cosine = new double[job.rowCount()];
      for (int i = 0; i < cosine.length; i++) {
        cosine[i] = Vectors.cosine(vectors[2 * i], vectors[2 * i + 1]);
      }
      Map<String, double[]> values = new LinkedHashMap<>();
      values.put(MetricNames.COSINE, cosine);
      if (colGold != null) {
        values.put(MetricNames.GOLD, gold);
      }
      return new Scored(
          values,
          batching(model, tokenizer, conventions),
          null,
          model.executionProvider(),
          model.signature());
    }
  }

  /**
   * How texts are grouped for this model, as a job's {@link Scored#batching()} reports it: {@link
   * #PADDED_BATCHES}, or {@link #ONE_AT_A_TIME} for a model whose embeddings move with their batch
   * (a dynamically quantised graph). Probed once per model, pooling and output.
   */
  public String batching(
      LoadedModel model, HuggingFaceTokenizer tokenizer, EmbeddingConventions conventions)
      throws ScoringException {
    return isBatchInvariant(model, tokenizer, conventions) ? PADDED_BATCHES : ONE_AT_A_TIME;
  }

  /**
   * The most texts one forward pass holds for a batch-invariant model ({@code worker.batch-size}).
   */
  public int batchSize() {
    return batchSize;
  }

  /** The L2-normalised embedding of every text, in input order. */
  public double[][] embed(
      LoadedModel model,
      HuggingFaceTokenizer tokenizer,
      EmbeddingConventions conventions,
      List<String> texts)
      throws ScoringException {
    int limit = isBatchInvariant(model, tokenizer, conventions) ? batchSize : 1;
    return embedBatched(model, tokenizer, conventions, texts, limit);
  }

  private boolean isBatchInvariant(
      LoadedModel model, HuggingFaceTokenizer tokenizer, EmbeddingConventions conventions)
      throws ScoringException {
    if (!probeBatchInvariance) {
      return true;
    }
    // Pooling decides which token vectors count (last-token and max read what mean averages away).
    String key = model.sha256() + "|" + conventions.pooling() + "|" + conventions.output();
    Boolean known = batchInvariant.getIfPresent(key);
    if (known != null) {
      return known;
    }
    double[] alone = embedBatched(model, tokenizer, conventions, List.of(PROBE_SHORT), 1)[0];
    double[] padded =
        embedBatched(model, tokenizer, conventions, List.of(PROBE_LONG, PROBE_SHORT), 2)[1];
    double worst = 0;
    for (int i = 0; i < alone.length; i++) {
      worst = Math.max(worst, Math.abs(alone[i] - padded[i]));
    }
    boolean invariant = worst <= INVARIANCE_TOLERANCE;
    log.info(
        "model {}: embeddings {} batch-invariant (largest difference {}): {}",
        model.sha256().substring(0, 12),
        invariant ? "are" : "are NOT",
        worst,
        invariant ? "batching by length" : "embedding one text at a time");
    batchInvariant.put(key, invariant);
    return invariant;
  }

  private double[][] embedBatched(
      LoadedModel model,
      HuggingFaceTokenizer tokenizer,
      EmbeddingConventions conventions,
      List<String> texts,
      int limit)
      throws ScoringException {
    Encoding[] encodings = new Encoding[texts.size()];
    for (int i = 0; i < texts.size(); i++) {
      encodings[i] = tokenizer.encode(texts.get(i));
    }
    // Sort by length so each batch pads as little as possible.
    Integer[] order = new Integer[texts.size()];
    Arrays.setAll(order, i -> i);
    Arrays.sort(order, Comparator.comparingInt(i -> encodings[i].getIds().length));
    double[][] embeddings = new double[texts.size()][];
    for (int from = 0; from < order.length; from += limit) {
      int to = Math.min(order.length, from + limit);
      Encoding[] batch = new Encoding[to - from];
      for (int i = from; i < to; i++) {
        batch[i - from] = encodings[order[i]];
      }
      double[][] out = run(model, conventions, batch);
      for (int i = from; i < to; i++) {
        embeddings[order[i]] = out[i - from];
      }
    }
    return embeddings;
  }

  private double[][] run(LoadedModel model, EmbeddingConventions conventions, Encoding[] batch)
      throws ScoringException {
    int rows = batch.length;
    int seqLen = Arrays.stream(batch).mapToInt(e -> e.getIds().length).max().orElse(0);
    long[] shape = {rows, seqLen};
    long[][] masks = new long[rows][seqLen];
    LongBuffer ids = directLongs(rows * seqLen);
    LongBuffer mask = directLongs(rows * seqLen);
    LongBuffer types = directLongs(rows * seqLen);
    for (int r = 0; r < rows; r++) {
      long[] tokenIds = batch[r].getIds();
      long[] typeIds = batch[r].getTypeIds();
      for (int t = 0; t < seqLen; t++) {
        boolean real = t < tokenIds.length;
        ids.put(real ? tokenIds[t] : 0);
        mask.put(real ? 1 : 0);
        types.put(real ? typeIds[t] : 0);
        masks[r][t] = real ? 1 : 0;
      }
    }
    ids.rewind();
    mask.rewind();
    types.rewind();
    Map<String, OnnxTensor> inputs = new HashMap<>();
    var env = sessions.environment();
    try {
      inputs.put("input_ids", OnnxTensor.createTensor(env, ids, shape));
      if (model.declaresInput("attention_mask")) {
        inputs.put("attention_mask", OnnxTensor.createTensor(env, mask, shape));
      }
      if (model.declaresInput("token_type_ids")) {
        inputs.put("token_type_ids", OnnxTensor.createTensor(env, types, shape));
      }
      if (!model.declaresInput("input_ids")) {
        throw ScoringException.input(
            "embedding model has no 'input_ids' input; its inputs are " + model.inputs().keySet());
      }
      String outputName = outputName(model, conventions);
      try (OrtSession.Result result = model.session().run(inputs, Set.of(outputName))) {
        OnnxTensor output = (OnnxTensor) result.get(0);
        long[] outShape = output.getInfo().getShape();
        FloatBuffer values = output.getFloatBuffer();
        double[][] embeddings = new double[rows][];
        if (outShape.length == 3) {
          int dim = (int) outShape[2];
          for (int r = 0; r < rows; r++) {
            double[] pooled = Vectors.pool(conventions.pooling(), values, r, seqLen, dim, masks[r]);
            embeddings[r] = conventions.normalize() ? Vectors.normalized(pooled) : pooled;
          }
        } else if (outShape.length == 2) {
          // Already pooled by the model (a sentence_embedding output): used as it is.
          int dim = (int) outShape[1];
          for (int r = 0; r < rows; r++) {
            double[] v = new double[dim];
            for (int d = 0; d < dim; d++) {
              v[d] = values.get(r * dim + d);
            }
            embeddings[r] = conventions.normalize() ? Vectors.normalized(v) : v;
          }
        } else {
          throw ScoringException.input(
              "embedding output '"
                  + outputName
                  + "' has shape "
                  + Arrays.toString(outShape)
                  + "; expected [batch, seq, dim] or [batch, dim]");
        }
        checkFinite(embeddings);
        return embeddings;
      }
    } catch (OrtException e) {
      throw ScoringException.fromModel("ONNX Runtime failed on the embedding model", e);
    } finally {
      inputs.values().forEach(OnnxTensor::close);
    }
  }

  private static void checkFinite(double[][] embeddings) throws ScoringException {
    for (double[] e : embeddings) {
      for (double v : e) {
        if (!Double.isFinite(v)) {
          throw ScoringException.input("embedding model produced a non-finite value (" + v + ")");
        }
      }
    }
  }

  /**
   * The output the conventions name, else {@code last_hidden_state} if present, else the first
   * float output.
   */
  public static String outputName(LoadedModel model, EmbeddingConventions conventions)
      throws ScoringException {
    if (conventions.output() != null) {
      if (!model.outputs().containsKey(conventions.output())) {
        throw ScoringException.input(
            "embedding.output '"
                + conventions.output()
                + "' is not an output of the model;"
                + " its outputs are "
                + model.outputs().keySet());
      }
      return conventions.output();
    }
    if (model.outputs().containsKey("last_hidden_state")) {
      return "last_hidden_state";
    }
    List<String> candidates = new ArrayList<>();
    for (Map.Entry<String, NodeInfo> entry : model.outputs().entrySet()) {
      if (entry.getValue().getInfo() instanceof TensorInfo info
          && info.type == ai.onnxruntime.OnnxJavaType.FLOAT) {
        candidates.add(entry.getKey());
      }
    }
    if (candidates.isEmpty()) {
      throw ScoringException.input(
          "embedding model has no float output; its outputs are " + model.outputs().keySet());
    }
    return candidates.get(0);
  }

  private static LongBuffer directLongs(int n) {
    return ByteBuffer.allocateDirect(n * Long.BYTES).order(ByteOrder.nativeOrder()).asLongBuffer();
  }
}
