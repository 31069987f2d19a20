package io.evalfleet.worker.scoring;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.evalfleet.common.contract.MetricNames;
import io.evalfleet.common.contract.ScoringEnvironment;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardError;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.SchemaVersion;
import io.evalfleet.common.subset.GoldenSubsetFile;
import io.evalfleet.common.subset.SubsetSchemaException;
import io.evalfleet.worker.model.LoadedModel;
import io.evalfleet.worker.model.ModelSessions;
import io.evalfleet.worker.perplexity.CausalLmScorer;
import io.evalfleet.worker.subset.SubsetReader;
import static io.evalfleet.common.subset.SubsetRoles.GOLD;
import static io.evalfleet.common.subset.SubsetRoles.TEXT_A;
import static io.evalfleet.common.subset.SubsetRoles.TEXT_B;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.parquet.example.data.Group;

/**
 * Scores one {@link ScoringJob} and always answers with a {@link ShardResult}: per-row values on
 * success, a typed {@link ShardError} naming the cause otherwise. Thread-safe.
 */
public final class ShardScorer implements JobScorer {
  private final ModelSessions sessions;
  private final EmbeddingScorer embeddings;
  private final CausalLmScorer causalLm;
  private final SubsetReader subsets;
  private final int defaultMaxSeqLen;
  private final String workerId;
  private final Clock clock;

  public ShardScorer(ModelSessions sessions, EmbeddingScorer embeddings, CausalLmScorer causalLm, SubsetReader subsets,
      int defaultMaxSeqLen, String workerId, Clock clock) {
    this.sessions = sessions;
    this.embeddings = embeddings;
    this.causalLm = causalLm;
    this.subsets = subsets;
    this.defaultMaxSeqLen = defaultMaxSeqLen;
    this.workerId = workerId;
    this.clock = clock;
  }

  @Override
  public ShardResult score(ScoringJob job) {
    long started = clock.millis();
    try {
      Scored scored = switch (job.task()) {
        case EMBEDDING -> scoreEmbedding(job);
        case CAUSAL_LM -> {
          CausalLmScorer.Result result = causalLm.score(job);
          yield new Scored(result.values(), result.batching(), result.paddingRatio(), result.executionProvider(),
              result.modelSignature());
        }
      };
      return result(job, scored.values, scored.batching, scored.paddingRatio, scored.provider, clock.millis() - started,
          null, new ScoringEnvironment(ONNX_RUNTIME, HARDWARE, scored.signature));
    } catch (ScoringException e) {
      return result(job, Map.of(), null, null, null, clock.millis() - started, e.toShardError(), null);
    } catch (RuntimeException e) {
      return result(job, Map.of(), null, null, null, clock.millis() - started,
          new ShardError(ShardError.INPUT, "scoring failed: " + e), null);
    }
  }

  private record Scored(Map<String, double[]> values, String batching, Double paddingRatio, String provider,
      String signature) {}

  /** The ONNX Runtime library this worker runs, as recorded in lockfiles. */
  static final String ONNX_RUNTIME = "onnxruntime " + ai.onnxruntime.OrtEnvironment.getEnvironment().getVersion();
  /** This worker's machine, as recorded in lockfiles. */
  static final String HARDWARE = System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT) + "/"
      + System.getProperty("os.arch") + ", " + Runtime.getRuntime().availableProcessors() + " cores";

  private Scored scoreEmbedding(ScoringJob job) throws ScoringException {
    if (job.tokenizer() == null) {
      throw ScoringException.input("task embedding needs a tokenizer (tokenizer.uri and tokenizer.sha256)");
    }
    String uri = job.goldenSubset().uri();
    String colA = job.goldenSubset().column(TEXT_A);
    String colB = job.goldenSubset().column(TEXT_B);
    String colGold = job.goldenSubset().column(GOLD);
    boolean withGold;
    try {
      GoldenSubsetFile footer = subsets.footer(uri);
      footer.requireText(TEXT_A, colA);
      footer.requireText(TEXT_B, colB);
      withGold = footer.hasColumn(colGold);
      if (withGold) {
        footer.requireNumber(GOLD, colGold);
      }
    } catch (FileNotFoundException | SubsetSchemaException e) {
      throw ScoringException.input(e.getMessage(), e);
    } catch (IOException e) {
      throw ScoringException.input(e.getMessage(), e);
    }
    List<String> columns = withGold ? List.of(colA, colB, colGold) : List.of(colA, colB);
    List<String> texts = new ArrayList<>(job.rowCount() * 2);
    double[] gold = new double[job.rowCount()];
    RowProblem problem = new RowProblem();
    try {
      long[] row = {job.rowStart()};
      subsets.read(uri, columns, job.rowStart(), job.rowCount(), record -> {
        String a = text(record, colA);
        String b = text(record, colB);
        if (a == null || b == null) {
          problem.note("row " + row[0] + " has no value in column '" + (a == null ? colA : colB) + "'");
        }
        texts.add(a == null ? "" : a);
        texts.add(b == null ? "" : b);
        if (withGold) {
          if (record.getFieldRepetitionCount(colGold) == 0) {
            problem.note("row " + row[0] + " has no value in column '" + colGold + "'");
          } else {
            gold[(int) (row[0] - job.rowStart())] = number(record, colGold);
          }
        }
        row[0]++;
      });
    } catch (IOException e) {
      throw ScoringException.input(e.getMessage(), e);
    }
    if (problem.first != null) {
      throw ScoringException.input("golden subset " + uri + ": " + problem.first);
    }
    int maxLen = job.maxSeqLen() != null ? job.maxSeqLen() : defaultMaxSeqLen;
    HuggingFaceTokenizer tokenizer = sessions.tokenizer(job.tokenizer(), maxLen);
    try (ModelSessions.Lease lease = sessions.lease(job.artifact())) {
      LoadedModel model = lease.model();
      double[][] vectors = embeddings.embed(model, tokenizer, texts);
      double[] cosine = new double[job.rowCount()];
      for (int i = 0; i < cosine.length; i++) {
        cosine[i] = Vectors.cosine(vectors[2 * i], vectors[2 * i + 1]);
      }
      Map<String, double[]> values = new LinkedHashMap<>();
      values.put(MetricNames.COSINE, cosine);
      if (withGold) {
        values.put(MetricNames.GOLD, gold);
      }
      return new Scored(values, embeddings.batching(model, tokenizer), null, model.executionProvider(), model.signature());
    }
  }

  private ShardResult result(ScoringJob job, Map<String, double[]> values, String batching, Double paddingRatio,
      String provider, long durationMs, ShardError error, ScoringEnvironment environment) {
    return new ShardResult(SchemaVersion.CURRENT, job.jobId(), job.runId(), job.shardIndex(), job.rowStart(),
        job.rowCount(), values, workerId, provider, batching, paddingRatio, durationMs, job.attempt(), error, environment);
  }

  private static String text(Group record, String column) {
    return record.getFieldRepetitionCount(column) == 0 ? null : record.getString(column, 0);
  }

  private static double number(Group record, String column) {
    var type = record.getType().getType(column).asPrimitiveType().getPrimitiveTypeName();
    return switch (type) {
      case DOUBLE -> record.getDouble(column, 0);
      case FLOAT -> record.getFloat(column, 0);
      case INT32 -> record.getInteger(column, 0);
      case INT64 -> record.getLong(column, 0);
      default -> throw new IllegalStateException("checked numeric column '" + column + "' is " + type);
    };
  }

  /** The first bad row met while reading, reported after the read. */
  private static final class RowProblem {
    String first;

    void note(String message) {
      if (first == null) {
        first = message;
      }
    }
  }

}
