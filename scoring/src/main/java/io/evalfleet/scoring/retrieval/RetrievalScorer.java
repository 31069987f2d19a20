package io.evalfleet.scoring.retrieval;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.evalfleet.common.contract.RetrievalStep;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.RetrievalTask;
import io.evalfleet.common.task.SubsetLayout;
import io.evalfleet.common.task.Task;
import io.evalfleet.scoring.Scored;
import io.evalfleet.scoring.ScoringException;
import io.evalfleet.scoring.TaskScorer;
import io.evalfleet.scoring.embedding.EmbeddingScorer;
import io.evalfleet.scoring.model.LoadedModel;
import io.evalfleet.scoring.model.ModelSessions;
import io.evalfleet.scoring.subset.Cells;
import io.evalfleet.scoring.subset.SubsetReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Scores a retrieval job (see {@link RetrievalTask}). A corpus job embeds its docs (the document
 * prefix, {@code embedding.prefix_b}, prepended) and writes them to the run's embeddings folder. A
 * query job embeds its queries ({@code prefix_a}), writes them too, and ranks the run's whole
 * corpus by exact cosine; per query it returns recall at the run's cut-offs, the reciprocal rank
 * and nDCG within the top 10. Against the baseline's embeddings it also returns the nDCG@10 of the
 * query against the baseline's corpus (the index as it stands), the overlap of both models' top 10,
 * and each text's cosine between its two embeddings (docs in the corpus job); those need equal
 * dimensions, but the overlap does not. Rows a value does not apply to are NaN. A query without a
 * relevant judgement has no metric (NaN) and is left out of the run's means. Thread-safe.
 */
public final class RetrievalScorer implements TaskScorer {
  private final ModelSessions sessions;
  private final SubsetReader subsets;
  private final EmbeddingScorer embedder;
  private final EmbeddingFiles files;
  private final int defaultMaxSeqLen;

  /** Per subset file and digest: its judgements, read once. */
  private final Cache<String, Judgements> judgements =
      Caffeine.newBuilder()
          .maximumWeight(256L << 20)
          .<String, Judgements>weigher((k, v) -> (int) Math.min(Integer.MAX_VALUE, v.bytes()))
          .build();

  /** Per embeddings folder and kind: the embeddings, read once the corpus is complete. */
  private final Cache<String, EmbeddingFiles.Embeddings> embeddings;

  /**
   * @param cacheBytes most bytes of embeddings kept between jobs (a corpus of 100,000 × 384 floats
   *     is 154 MB)
   */
  public RetrievalScorer(
      ModelSessions sessions,
      SubsetReader subsets,
      EmbeddingScorer embedder,
      EmbeddingFiles files,
      int defaultMaxSeqLen,
      long cacheBytes) {
    this.sessions = sessions;
    this.subsets = subsets;
    this.embedder = embedder;
    this.files = files;
    this.defaultMaxSeqLen = defaultMaxSeqLen;
    this.embeddings =
        Caffeine.newBuilder()
            .maximumWeight(cacheBytes)
            .<String, EmbeddingFiles.Embeddings>weigher(
                (k, v) -> (int) Math.min(Integer.MAX_VALUE, v.bytes()))
            .build();
  }

  @Override
  public Task task() {
    return Task.RETRIEVAL;
  }

  @Override
  public Scored score(ScoringJob job) throws ScoringException {
    RetrievalStep step = job.retrieval();
    boolean corpus = step.phase() == RetrievalStep.Phase.CORPUS;
    SubsetLayout layout = TaskScorer.layout(subsets, job);
    EmbeddingConventions conventions = EmbeddingConventions.orDefaults(job.embedding());
    Texts texts =
        readTexts(
            job,
            layout,
            corpus ? RetrievalTask.DOC : RetrievalTask.QUERY,
            corpus ? conventions.prefixB() : conventions.prefixA());
    int maxLen = job.maxSeqLen() != null ? job.maxSeqLen() : defaultMaxSeqLen;
    float[][] vectors;
    String batching;
    String provider;
    String signature;
    try (ModelSessions.TokenizerLease held = sessions.tokenizer(job.tokenizer(), maxLen);
        ModelSessions.Lease lease = sessions.lease(job.artifact())) {
      LoadedModel model = lease.model();
      vectors = normalized(embedder.embed(model, held.tokenizer(), conventions, texts.texts()));
      batching = embedder.batching(model, held.tokenizer(), conventions);
      provider = model.executionProvider();
      signature = model.signature();
    }
    try {
      files.write(
          step.embeddings(),
          corpus ? EmbeddingFiles.DOCS : EmbeddingFiles.QUERIES,
          job.rowStart(),
          vectors);
      Map<String, double[]> values = emptyValues(job, step);
      Baseline baseline = baseline(step);
      if (corpus) {
        scoreDocs(job, vectors, baseline, values);
      } else {
        scoreQueries(job, layout, step, texts.queryIds(), vectors, baseline, values);
      }
      return new Scored(values, batching, null, provider, signature);
    } catch (IOException e) {
      throw ScoringException.of("retrieval embeddings in " + step.embeddings(), e);
    }
  }

  private record Texts(List<String> texts, List<String> queryIds) {}

  private Texts readTexts(ScoringJob job, SubsetLayout layout, String role, String prefix)
      throws ScoringException {
    String uri = job.goldenSubset().uri();
    String roleColumn = layout.column(RetrievalTask.ROLE);
    String textColumn = layout.column(RetrievalTask.TEXT);
    String idColumn = layout.column(RetrievalTask.QUERY_ID);
    List<String> texts = new ArrayList<>(job.rowCount());
    List<String> ids = new ArrayList<>(job.rowCount());
    List<String> problems = new ArrayList<>(1);
    long[] row = {job.rowStart()};
    try {
      subsets.read(
          uri,
          List.of(roleColumn, textColumn, idColumn),
          job.rowStart(),
          job.rowCount(),
          record -> {
            long at = row[0]++;
            String text = Cells.text(record, textColumn);
            if (!role.equals(Cells.text(record, roleColumn)) && problems.isEmpty()) {
              problems.add(
                  "row "
                      + at
                      + " is not a "
                      + role
                      + ", but the job scores "
                      + role
                      + " rows "
                      + job.rowStart()
                      + ".."
                      + (job.rowStart() + job.rowCount() - 1));
            } else if (text == null && problems.isEmpty()) {
              problems.add(
                  "row " + at + " is a " + role + " without text in column '" + textColumn + "'");
            } else if (role.equals(RetrievalTask.QUERY)
                && Cells.text(record, idColumn) == null
                && problems.isEmpty()) {
              problems.add("row " + at + " is a query without an id in column '" + idColumn + "'");
            }
            texts.add(prefix + (text == null ? "" : text));
            ids.add(Cells.text(record, idColumn));
          });
    } catch (IOException e) {
      throw ScoringException.of("reading golden subset " + uri, e);
    }
    if (!problems.isEmpty()) {
      throw ScoringException.input("golden subset " + uri + ": " + problems.get(0));
    }
    return new Texts(texts, ids);
  }

  /**
   * Every value the run's jobs return, all NaN until scored: the same names from every job of a
   * run.
   */
  private static Map<String, double[]> emptyValues(ScoringJob job, RetrievalStep step) {
    List<String> names = new ArrayList<>();
    step.recallAt().forEach(k -> names.add(RetrievalTask.recall(k)));
    names.add(MetricNames.RR_AT_10);
    names.add(MetricNames.NDCG_AT_10);
    if (step.baselineEmbeddings() != null) {
      names.add(MetricNames.INDEX_NDCG_AT_10);
      names.add(MetricNames.OVERLAP_AT_10);
      names.add(MetricNames.COSINE_TO_BASELINE);
    }
    Map<String, double[]> values = new LinkedHashMap<>();
    for (String name : names) {
      double[] column = new double[job.rowCount()];
      Arrays.fill(column, Double.NaN);
      values.put(name, column);
    }
    return values;
  }

  /** The baseline's embeddings, when the job names them and they are there. */
  private record Baseline(EmbeddingFiles.Embeddings docs, EmbeddingFiles.Embeddings queries) {}

  private Baseline baseline(RetrievalStep step) throws IOException {
    String folder = step.baselineEmbeddings();
    if (folder == null
        || !files.has(folder, EmbeddingFiles.DOCS)
        || !files.has(folder, EmbeddingFiles.QUERIES)) {
      return null;
    }
    return new Baseline(
        cached(folder, EmbeddingFiles.DOCS), cached(folder, EmbeddingFiles.QUERIES));
  }

  private EmbeddingFiles.Embeddings cached(String folder, String kind) throws IOException {
    String key = folder + "#" + kind;
    EmbeddingFiles.Embeddings found = embeddings.getIfPresent(key);
    if (found == null) {
      found = files.read(folder, kind);
      embeddings.put(key, found);
    }
    return found;
  }

  /**
   * Each doc's cosine between its baseline and candidate embeddings, when their dimensions match.
   */
  private static void scoreDocs(
      ScoringJob job, float[][] vectors, Baseline baseline, Map<String, double[]> values) {
    if (baseline == null || baseline.docs().dimensions() != vectors[0].length) {
      return;
    }
    double[] cosine = values.get(MetricNames.COSINE_TO_BASELINE);
    for (int i = 0; i < vectors.length; i++) {
      int at = Arrays.binarySearch(baseline.docs().rows(), job.rowStart() + i);
      if (at >= 0) {
        cosine[i] = dot(baseline.docs().vector(at), vectors[i]);
      }
    }
  }

  private void scoreQueries(
      ScoringJob job,
      SubsetLayout layout,
      RetrievalStep step,
      List<String> queryIds,
      float[][] vectors,
      Baseline baseline,
      Map<String, double[]> values)
      throws IOException, ScoringException {
    Judgements judged = judgements(job, layout);
    EmbeddingFiles.Embeddings corpus = cached(step.embeddings(), EmbeddingFiles.DOCS);
    if (!Arrays.equals(corpus.rows(), judged.docRows())) {
      throw ScoringException.input(
          "the corpus embeddings in "
              + step.embeddings()
              + " cover "
              + corpus.count()
              + " docs, but golden subset "
              + job.goldenSubset().uri()
              + " has "
              + judged.docRows().length
              + ": the corpus was not completely embedded");
    }
    ExactTopK index = new ExactTopK(corpus.vectors(), corpus.dimensions());
    int depth =
        Math.max(
            RetrievalTask.CUTOFF,
            step.recallAt().stream().mapToInt(Integer::intValue).max().orElse(0));
    ExactTopK oldIndex = null;
    boolean sameSpace = false;
    if (baseline != null) {
      if (!Arrays.equals(baseline.docs().rows(), judged.docRows())) {
        throw ScoringException.input(
            "the baseline's corpus embeddings in "
                + step.baselineEmbeddings()
                + " do not cover the subset's "
                + judged.docRows().length
                + " docs");
      }
      oldIndex = new ExactTopK(baseline.docs().vectors(), baseline.docs().dimensions());
      sameSpace = baseline.docs().dimensions() == corpus.dimensions();
    }
    for (int i = 0; i < vectors.length; i++) {
      float[] before = null;
      if (oldIndex != null) {
        int at = Arrays.binarySearch(baseline.queries().rows(), job.rowStart() + i);
        before = at >= 0 ? baseline.queries().vector(at) : null;
      }
      if (before != null && sameSpace) {
        // Every query's text drift counts, judged or not, as every doc's does.
        values.get(MetricNames.COSINE_TO_BASELINE)[i] = dot(before, vectors[i]);
      }
      Map<Integer, Integer> grades = judged.of(queryIds.get(i));
      if (grades.values().stream().noneMatch(g -> g > 0)) {
        continue; // no relevant doc: no recall, rank or nDCG
      }
      int[] ranking = index.nearest(vectors[i], depth);
      for (int k : step.recallAt()) {
        values.get(RetrievalTask.recall(k))[i] = RankingMetrics.recall(ranking, grades, k);
      }
      values.get(MetricNames.RR_AT_10)[i] =
          RankingMetrics.reciprocalRank(ranking, grades, RetrievalTask.CUTOFF);
      values.get(MetricNames.NDCG_AT_10)[i] =
          RankingMetrics.ndcg(ranking, grades, RetrievalTask.CUTOFF);
      if (oldIndex == null) {
        continue;
      }
      if (before != null) {
        int[] baselineTop = oldIndex.nearest(before, RetrievalTask.CUTOFF);
        values.get(MetricNames.OVERLAP_AT_10)[i] =
            overlap(baselineTop, ranking, RetrievalTask.CUTOFF);
      }
      if (sameSpace) {
        values.get(MetricNames.INDEX_NDCG_AT_10)[i] =
            RankingMetrics.ndcg(
                oldIndex.nearest(vectors[i], RetrievalTask.CUTOFF), grades, RetrievalTask.CUTOFF);
      }
    }
  }

  private Judgements judgements(ScoringJob job, SubsetLayout layout) throws IOException {
    String key = job.goldenSubset().uri() + "#" + job.goldenSubset().sha256();
    Judgements found = judgements.getIfPresent(key);
    if (found == null) {
      found =
          Judgements.read(
              subsets,
              job.goldenSubset().uri(),
              layout,
              subsets.footer(job.goldenSubset().uri()).rowCount());
      judgements.put(key, found);
    }
    return found;
  }

  /**
   * The share of the first {@code k} of {@code a} that are among the first {@code k} of {@code b}.
   */
  static double overlap(int[] a, int[] b, int k) {
    int shared = 0;
    for (int i = 0; i < Math.min(k, a.length); i++) {
      for (int j = 0; j < Math.min(k, b.length); j++) {
        if (a[i] == b[j]) {
          shared++;
          break;
        }
      }
    }
    return (double) shared / Math.min(k, a.length);
  }

  private static float[][] normalized(double[][] embeddings) {
    float[][] out = new float[embeddings.length][];
    for (int i = 0; i < embeddings.length; i++) {
      double norm = 0;
      for (double v : embeddings[i]) {
        norm += v * v;
      }
      double scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      out[i] = new float[embeddings[i].length];
      for (int d = 0; d < out[i].length; d++) {
        out[i][d] = (float) (embeddings[i][d] * scale);
      }
    }
    return out;
  }

  private static double dot(float[] a, float[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      sum += (double) a[i] * b[i];
    }
    return sum;
  }
}
