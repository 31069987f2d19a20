package io.evalfleet.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.subset.GoldenSubsetWriter.Pair;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.EmbeddingConventions.Pooling;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.Task;
import io.evalfleet.scoring.embedding.EmbeddingScorer;
import io.evalfleet.scoring.embedding.Vectors;
import io.evalfleet.scoring.model.ArtifactCache;
import io.evalfleet.scoring.model.ModelSessions;
import io.evalfleet.scoring.subset.SubsetReader;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An embedding model is scored under its own conventions: bge-small-en-v1.5 pools its [CLS] token,
 * which a bare ONNX Runtime loop here computes without evalfleet's pooling code; prompt prefixes
 * are prepended before tokenisation.
 */
class EmbeddingConventionsTest {
  static final List<Pair> PAIRS =
      List.of(
          new Pair(0, "A man is eating food.", "A man is eating a piece of bread.", 3.8),
          new Pair(1, "A woman is playing the violin.", "A man is playing a guitar.", 1.6),
          new Pair(2, "The cat sleeps on the sofa.", "A cat is asleep on a couch.", 4.6),
          new Pair(
              3,
              "Stock markets fell sharply today.",
              "It rained all weekend in the mountains.",
              0.0),
          new Pair(4, "He repaired the old bicycle.", "The old bicycle was fixed by him.", 4.8),
          new Pair(
              5, "Children are playing football in the park.", "Kids play soccer outside.", 4.0));

  @TempDir static Path dir;
  static ModelSessions sessions;
  static ShardScorer scorer;
  static SubsetRef pairs;

  @BeforeAll
  static void setUp() throws Exception {
    Storage storage = Storage.withDefaults();
    sessions =
        new ModelSessions(new ArtifactCache(storage, dir.resolve("cache"), Long.MAX_VALUE), 2);
    SubsetReader subsets = new SubsetReader(storage);
    scorer =
        new ShardScorer(
            List.of(new EmbeddingScorer(sessions, subsets, 8, 512)), "test", Clock.systemUTC());
    pairs = subset("pairs", PAIRS);
  }

  @AfterAll
  static void tearDown() {
    sessions.close();
  }

  static SubsetRef subset(String name, List<Pair> rows) throws Exception {
    Path file = dir.resolve(name + ".parquet");
    GoldenSubsetWriter.writePairs(new org.apache.hadoop.fs.Path(file.toUri()), rows, 1 << 20);
    return new SubsetRef(
        file.toUri().toString(),
        Storage.withDefaults().sha256(file.toUri().toString()),
        null,
        Map.of());
  }

  static double[] cosines(
      ArtifactRef model,
      ArtifactRef tokenizer,
      SubsetRef subset,
      EmbeddingConventions conventions) {
    ScoringJob job =
        ScoringJob.builder()
            .jobId("run-c/00000")
            .runId("run-c")
            .eventId("ev")
            .model("m")
            .version("v")
            .task(Task.EMBEDDING)
            .artifact(model)
            .tokenizer(tokenizer)
            .goldenSubset(subset)
            .maxSeqLen(512)
            .shardIndex(0)
            .shardCount(1)
            .rowStart(0)
            .rowCount(PAIRS.size())
            .metrics(List.of(MetricNames.COSINE))
            .attempt(1)
            .deadline(Instant.now().plusSeconds(60))
            .embedding(conventions)
            .build();
    ShardResult result = scorer.score(job);
    assertThat(result.error()).as("%s", result.error()).isNull();
    return result.values().get(MetricNames.COSINE);
  }

  /** The [CLS] vector of each text, straight from ONNX Runtime: no evalfleet pooling involved. */
  static double[] clsCosines(ArtifactRef model, ArtifactRef tokenizerFile) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    double[] cosines = new double[PAIRS.size()];
    try (OrtSession session =
            env.createSession(Path.of(java.net.URI.create(model.uri())).toString());
        HuggingFaceTokenizer tokenizer =
            HuggingFaceTokenizer.newInstance(Path.of(java.net.URI.create(tokenizerFile.uri())))) {
      for (int i = 0; i < PAIRS.size(); i++) {
        float[] a = cls(env, session, tokenizer.encode(PAIRS.get(i).textA()));
        float[] b = cls(env, session, tokenizer.encode(PAIRS.get(i).textB()));
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int d = 0; d < a.length; d++) {
          dot += (double) a[d] * b[d];
          na += (double) a[d] * a[d];
          nb += (double) b[d] * b[d];
        }
        cosines[i] = dot / Math.sqrt(na * nb);
      }
    }
    return cosines;
  }

  static float[] cls(OrtEnvironment env, OrtSession session, Encoding encoding) throws Exception {
    long[][] ids = {encoding.getIds()};
    long[][] mask = {encoding.getAttentionMask()};
    long[][] types = {encoding.getTypeIds()};
    Map<String, OnnxTensor> inputs = new HashMap<>();
    try {
      inputs.put("input_ids", OnnxTensor.createTensor(env, ids));
      inputs.put("attention_mask", OnnxTensor.createTensor(env, mask));
      if (session.getInputNames().contains("token_type_ids")) {
        inputs.put("token_type_ids", OnnxTensor.createTensor(env, types));
      }
      try (OrtSession.Result result = session.run(inputs)) {
        float[][][] hidden = (float[][][]) result.get(0).getValue();
        return hidden[0][0];
      }
    } finally {
      inputs.values().forEach(OnnxTensor::close);
    }
  }

  @Test
  void aClsPooledModelIsScoredAsItsOwnConventionsSayAndMeanPoolingWouldHaveMovedItsCosines()
      throws Exception {
    ArtifactRef bge = TestModels.bge();
    ArtifactRef tokenizer = TestModels.bgeTokenizer();
    double[] reference = clsCosines(bge, tokenizer);
    EmbeddingConventions cls = EmbeddingConventions.DEFAULTS.withPooling(Pooling.CLS);
    double[] scored = cosines(bge, tokenizer, pairs, cls);
    double[] meanPooled = cosines(bge, tokenizer, pairs, EmbeddingConventions.DEFAULTS);
    double largestMeanError = 0;
    for (int i = 0; i < reference.length; i++) {
      assertThat(scored[i])
          .as("pair %d under CLS pooling", i)
          .isCloseTo(reference[i], org.assertj.core.api.Assertions.within(1e-5));
      largestMeanError = Math.max(largestMeanError, Math.abs(meanPooled[i] - reference[i]));
    }
    System.out.printf(
        "bge-small-en-v1.5: CLS-pooled cosines match a bare ONNX Runtime loop; mean pooling would have"
            + " moved them by up to %.4f%n",
        largestMeanError);
    assertThat(largestMeanError)
        .as("mean pooling is not the model's convention")
        .isGreaterThan(0.005);
  }

  @Test
  void promptPrefixesArePrependedBeforeTokenisation() throws Exception {
    ArtifactRef minilm = TestModels.fp32();
    ArtifactRef tokenizer = TestModels.tokenizer();
    EmbeddingConventions e5Style =
        new EmbeddingConventions(null, null, "query: ", "passage: ", null);
    double[] prefixed = cosines(minilm, tokenizer, pairs, e5Style);
    SubsetRef written =
        subset(
            "prefixed",
            PAIRS.stream()
                .map(
                    p -> new Pair(p.id(), "query: " + p.textA(), "passage: " + p.textB(), p.gold()))
                .toList());
    double[] byHand = cosines(minilm, tokenizer, written, EmbeddingConventions.DEFAULTS);
    double[] plain = cosines(minilm, tokenizer, pairs, EmbeddingConventions.DEFAULTS);
    assertThat(prefixed).containsExactly(byHand, org.assertj.core.api.Assertions.within(1e-9));
    assertThat(prefixed).isNotEqualTo(plain);
  }

  @Test
  void anUnknownOutputIsBadInputNamingTheOutputs() throws Exception {
    ScoringJob job =
        ScoringJob.builder()
            .jobId("run-c/00000")
            .runId("run-c")
            .eventId("ev")
            .model("m")
            .version("v")
            .task(Task.EMBEDDING)
            .artifact(TestModels.fp32())
            .tokenizer(TestModels.tokenizer())
            .goldenSubset(pairs)
            .maxSeqLen(512)
            .shardIndex(0)
            .shardCount(1)
            .rowStart(0)
            .rowCount(2)
            .metrics(List.of(MetricNames.COSINE))
            .attempt(1)
            .deadline(Instant.now().plusSeconds(60))
            .embedding(EmbeddingConventions.DEFAULTS.withOutput("sentence_embedding"))
            .build();
    ShardResult result = scorer.score(job);
    assertThat(result.error().message())
        .contains("embedding.output 'sentence_embedding' is not an output", "last_hidden_state");
  }

  /** The fixture's table: row t has 1 in column t mod 8 and t / 255 in column (t + 1) mod 8. */
  static double[] row(int t) {
    double[] v = new double[8];
    v[t % 8] = 1;
    v[(t + 1) % 8] += t / 255.0;
    return v;
  }

  static double[] pooled(String text, Pooling pooling) {
    byte[] bytes = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    double[] out = new double[8];
    if (pooling == Pooling.CLS) {
      return row(bytes[0] & 0xff);
    }
    for (byte b : bytes) {
      double[] r = row(b & 0xff);
      for (int d = 0; d < 8; d++) {
        out[d] += r[d] / bytes.length;
      }
    }
    return out;
  }

  @Test
  void aModelWithoutTokenTypeIdsIsScoredUnderEachPooling() throws Exception {
    Path fixtures = Path.of("..", "fixtures").toAbsolutePath().normalize();
    String modelUri = fixtures.resolve("embedding/bytes-no-token-types.onnx").toUri().toString();
    String tokenizerUri = fixtures.resolve("causal-lm/tokenizer.json").toUri().toString();
    ArtifactRef model = new ArtifactRef(modelUri, Storage.withDefaults().sha256(modelUri));
    ArtifactRef tokenizer =
        new ArtifactRef(tokenizerUri, Storage.withDefaults().sha256(tokenizerUri));
    for (Pooling pooling : List.of(Pooling.MEAN, Pooling.CLS)) {
      double[] scored =
          cosines(model, tokenizer, pairs, EmbeddingConventions.DEFAULTS.withPooling(pooling));
      for (int i = 0; i < PAIRS.size(); i++) {
        double expected =
            Vectors.cosine(
                pooled(PAIRS.get(i).textA(), pooling), pooled(PAIRS.get(i).textB(), pooling));
        assertThat(scored[i])
            .as("%s pooling, pair %d", pooling, i)
            .isCloseTo(expected, org.assertj.core.api.Assertions.within(1e-6));
      }
    }
  }

  @Test
  void poolingsKeepToTheirDefinitions() {
    // Two sequences of 3 tokens, dim 2; the second has one padding token.
    java.nio.FloatBuffer hidden =
        java.nio.FloatBuffer.wrap(
            new float[] {
              1, 2, 3, 4, 5, 0,
              -1, 7, 2, 2, 100, 100
            });
    long[] full = {1, 1, 1};
    long[] padded = {1, 1, 0};
    assertThat(Vectors.pool(Pooling.MEAN, hidden, 0, 3, 2, full)).containsExactly(3, 2);
    assertThat(Vectors.pool(Pooling.CLS, hidden, 0, 3, 2, full)).containsExactly(1, 2);
    assertThat(Vectors.pool(Pooling.MAX, hidden, 0, 3, 2, full)).containsExactly(5, 4);
    assertThat(Vectors.pool(Pooling.LAST_TOKEN, hidden, 0, 3, 2, full)).containsExactly(5, 0);
    assertThat(Vectors.pool(Pooling.MEAN, hidden, 1, 3, 2, padded))
        .as("padding never counts")
        .containsExactly(0.5, 4.5);
    assertThat(Vectors.pool(Pooling.MAX, hidden, 1, 3, 2, padded)).containsExactly(2, 7);
    assertThat(Vectors.pool(Pooling.LAST_TOKEN, hidden, 1, 3, 2, padded))
        .as("the last token that is not padding")
        .containsExactly(2, 2);
  }
}
