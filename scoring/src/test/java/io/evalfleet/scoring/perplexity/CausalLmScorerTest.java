package io.evalfleet.scoring.perplexity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.Task;
import io.evalfleet.common.task.TokenSketch;
import io.evalfleet.scoring.ShardScorer;
import io.evalfleet.scoring.embedding.EmbeddingScorer;
import io.evalfleet.scoring.model.ArtifactCache;
import io.evalfleet.scoring.model.ModelSessions;
import io.evalfleet.scoring.subset.SubsetReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Perplexity with real ONNX causal LMs against answers computed outside Java (closed form, and
 * torch in float64 by scripts/make_causal_lm_fixtures.py).
 */
class CausalLmScorerTest {
  static final Path FIXTURES = Path.of("..", "fixtures", "causal-lm").toAbsolutePath().normalize();
  static final double RELATIVE = 1e-6;

  @TempDir static Path dir;
  static JsonNode reference;
  static ModelSessions sessions;
  static CausalLmScorer causalLm;
  static ShardScorer scorer;
  static List<String> heldout;
  static SubsetRef heldoutText;

  @BeforeAll
  static void setUp() throws Exception {
    reference = Json.mapper().readTree(FIXTURES.resolve("reference.json").toFile());
    Storage storage = Storage.withDefaults();
    sessions =
        new ModelSessions(new ArtifactCache(storage, dir.resolve("cache"), Long.MAX_VALUE), 2);
    SubsetReader subsets = new SubsetReader(storage);
    causalLm = new CausalLmScorer(sessions, subsets, 16);
    scorer =
        new ShardScorer(
            List.of(new EmbeddingScorer(sessions, subsets, 16, 256), causalLm),
            "test",
            Clock.systemUTC());
    heldout =
        Files.readAllLines(FIXTURES.resolve("heldout.txt")).stream()
            .filter(l -> !l.isEmpty())
            .toList();
    heldoutText = textSubset("heldout", heldout);
  }

  @AfterAll
  static void tearDown() {
    sessions.close();
  }

  static ArtifactRef fixture(String name) throws Exception {
    String uri = FIXTURES.resolve(name).toUri().toString();
    return new ArtifactRef(uri, Storage.withDefaults().sha256(uri));
  }

  static SubsetRef textSubset(String name, List<String> texts) throws Exception {
    Path file = dir.resolve(name + ".parquet");
    GoldenSubsetWriter.writeTexts(new org.apache.hadoop.fs.Path(file.toUri()), texts, 512);
    return new SubsetRef(
        file.toUri().toString(),
        Storage.withDefaults().sha256(file.toUri().toString()),
        null,
        Map.of());
  }

  static SubsetRef tokenSubset(String name, List<int[]> rows) throws Exception {
    Path file = dir.resolve(name + ".parquet");
    GoldenSubsetWriter.writeTokenIds(new org.apache.hadoop.fs.Path(file.toUri()), rows, 512);
    return new SubsetRef(
        file.toUri().toString(),
        Storage.withDefaults().sha256(file.toUri().toString()),
        null,
        Map.of());
  }

  static ScoringJob job(String model, SubsetRef subset, int rows) throws Exception {
    return ScoringJob.builder()
        .jobId("run-p/" + rows)
        .runId("run-p")
        .eventId("ev")
        .model("m")
        .version("v")
        .task(Task.CAUSAL_LM)
        .artifact(fixture(model))
        .tokenizer(fixture("tokenizer.json"))
        .goldenSubset(subset)
        .maxSeqLen(128)
        .stride(64)
        .shardIndex(0)
        .shardCount(1)
        .rowStart(0)
        .rowCount(rows)
        .metrics(List.of("nll"))
        .attempt(1)
        .deadline(Instant.now().plusSeconds(60))
        .build();
  }

  static ShardResult score(String model, SubsetRef subset, int rows) throws Exception {
    return scorer.score(job(model, subset, rows));
  }

  static int[] bytes(JsonNode ids) {
    int[] out = new int[ids.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = ids.get(i).asInt();
    }
    return out;
  }

  static double sum(double[] values) {
    return Arrays.stream(values).sum();
  }

  @Test
  void constantLogitsGivePerplexityEqualToTheVocabularySize() throws Exception {
    ShardResult result = score("uniform-v256.onnx", heldoutText, heldout.size());
    assertThat(result.error()).isNull();
    double[] nll = result.values().get(MetricNames.NLL_SUM);
    double[] tokens = result.values().get(MetricNames.TOKENS);
    for (int r = 0; r < heldout.size(); r++) {
      int n = heldout.get(r).getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
      assertThat(tokens[r]).isEqualTo(n - 1);
      assertThat(nll[r])
          .isCloseTo((n - 1) * Math.log(256), within(RELATIVE * (n - 1) * Math.log(256)));
    }
    assertThat(Math.exp(sum(nll) / sum(tokens))).isCloseTo(256.0, within(256 * RELATIVE));
    assertThat(sum(result.values().get(MetricNames.BYTES)))
        .isEqualTo(reference.at("/models/uniform-v256/heldout_bytes").asDouble());
  }

  @Test
  void trainedModelsMatchTorchOnWholeRowsAndOnTheSlidingWindow() throws Exception {
    for (String model : List.of("bytegpt-base", "bytegpt-finetuned")) {
      List<int[]> rows = new ArrayList<>();
      List<Double> expected = new ArrayList<>();
      List<Integer> counts = new ArrayList<>();
      for (JsonNode text : reference.at("/models/" + model + "/texts")) {
        if (text.get("input_ids").size() < 2) {
          continue;
        }
        rows.add(bytes(text.get("input_ids")));
        boolean sliding = text.has("sliding_sum_nll");
        expected.add(text.get(sliding ? "sliding_sum_nll" : "sum_nll").asDouble());
        counts.add(text.get(sliding ? "sliding_scored_tokens" : "scored_tokens").asInt());
      }
      ShardResult result = score(model + ".onnx", tokenSubset(model + "-ids", rows), rows.size());
      assertThat(result.error()).isNull();
      for (int r = 0; r < rows.size(); r++) {
        assertThat(result.values().get(MetricNames.TOKENS)[r]).isEqualTo((double) counts.get(r));
        assertThat(result.values().get(MetricNames.NLL_SUM)[r])
            .as("%s row %d", model, r)
            .isCloseTo(expected.get(r), within(RELATIVE * expected.get(r)));
      }
    }
  }

  @Test
  void heldOutCorpusThroughTheTokenizerMatchesTorch() throws Exception {
    for (String model : List.of("bytegpt-base", "bytegpt-finetuned")) {
      ShardResult result = score(model + ".onnx", heldoutText, heldout.size());
      JsonNode ref = reference.at("/models/" + model);
      double nll = sum(result.values().get(MetricNames.NLL_SUM));
      assertThat(sum(result.values().get(MetricNames.TOKENS)))
          .isEqualTo(ref.get("heldout_scored_tokens").asDouble());
      assertThat(nll).isCloseTo(ref.get("heldout_sum_nll").asDouble(), within(RELATIVE * nll));
      double perplexity = Math.exp(nll / sum(result.values().get(MetricNames.TOKENS)));
      assertThat(perplexity)
          .isCloseTo(ref.get("heldout_perplexity").asDouble(), within(1e-5 * perplexity));
      assertThat(result.paddingRatio()).isBetween(0.0, 0.35);
    }
  }

  /**
   * The same weights exported as real causal LMs are shipped (scripts/make_export_variants.py):
   * optimum's KV-cache shape, fed an empty past, and its merged decoder, fed use_cache_branch
   * false, equal the plain export to 1e-6; float16 logits (about 3 significant digits, relative
   * rounding at most 2^-11 per logit) move a row's NLL by well under 1e-3 relative, bfloat16 (2^-8)
   * under 1e-2.
   */
  @Test
  void exportsWithAKvCacheOrHalfPrecisionLogitsScoreAsThePlainExport() throws Exception {
    ShardResult plain = score("bytegpt-base.onnx", heldoutText, heldout.size());
    double[] reference = plain.values().get(MetricNames.NLL_SUM);
    // The merged decoder's cache branch returns zero logits: fed use_cache_branch true it would
    // score
    // perplexity 256, so agreement with the plain export shows that false was fed.
    Map<String, Double> tolerance =
        Map.of(
            "bytegpt-base-kv.onnx",
            1e-6,
            "bytegpt-base-merged.onnx",
            1e-6,
            "bytegpt-base-fp16.onnx",
            1e-3,
            "bytegpt-base-bf16.onnx",
            1e-2);
    for (var variant : tolerance.entrySet()) {
      ShardResult result = score(variant.getKey(), heldoutText, heldout.size());
      assertThat(result.error()).as("%s: %s", variant.getKey(), result.error()).isNull();
      double[] nll = result.values().get(MetricNames.NLL_SUM);
      double worst = 0;
      for (int r = 0; r < nll.length; r++) {
        worst = Math.max(worst, Math.abs(nll[r] - reference[r]) / reference[r]);
      }
      System.out.printf(
          "%s: largest relative difference of a row's NLL from the plain export: %.2e%n",
          variant.getKey(), worst);
      assertThat(worst).as(variant.getKey()).isLessThanOrEqualTo(variant.getValue());
      assertThat(result.values().get(MetricNames.TOKENS))
          .containsExactly(plain.values().get(MetricNames.TOKENS));
    }
  }

  static ShardResult shift(String baseline, String candidate) throws Exception {
    return scorer.score(
        job(candidate, heldoutText, heldout.size()).withReference(fixture(baseline)));
  }

  @Test
  void aModelAgainstItselfHasNoTokenShiftAndItsOwnPerplexity() throws Exception {
    ShardResult alone = score("bytegpt-base.onnx", heldoutText, heldout.size());
    ShardResult paired = shift("bytegpt-base.onnx", "bytegpt-base.onnx");
    assertThat(paired.error()).isNull();
    double[] tokens = paired.values().get(MetricNames.TOKENS);
    assertThat(tokens).containsExactly(alone.values().get(MetricNames.TOKENS));
    for (int r = 0; r < tokens.length; r++) {
      double nll = alone.values().get(MetricNames.NLL_SUM)[r];
      assertThat(paired.values().get(MetricNames.NLL_SUM)[r])
          .as("row %d NLL", r)
          .isCloseTo(nll, within(RELATIVE * nll));
      assertThat(paired.values().get(MetricNames.KL_SUM)[r])
          .as("row %d KL", r)
          .isCloseTo(0, within(1e-4));
      assertThat(paired.values().get(MetricNames.TOP1_AGREE)[r])
          .as("row %d agreements", r)
          .isEqualTo(tokens[r]);
      assertThat(paired.values().get(MetricNames.DP_TRUE_SUM)[r]).isCloseTo(0, within(1e-5));
    }
    TokenSketch kl = TokenSketch.decode(paired.sketches().get(MetricNames.KL_TOKENS));
    assertThat(kl.count()).isEqualTo(Math.round(sum(tokens)));
    assertThat(kl.quantile(0.99)).isLessThan(1e-6);
  }

  @Test
  void theFineTuneShiftsAwayFromItsBaseWhileItsPerplexityIsTheOneItScoresAlone() throws Exception {
    ShardResult alone = score("bytegpt-finetuned.onnx", heldoutText, heldout.size());
    ShardResult paired = shift("bytegpt-base.onnx", "bytegpt-finetuned.onnx");
    assertThat(paired.error()).isNull();
    double nll = sum(paired.values().get(MetricNames.NLL_SUM));
    assertThat(nll).isCloseTo(sum(alone.values().get(MetricNames.NLL_SUM)), within(RELATIVE * nll));
    assertThat(nll)
        .isCloseTo(
            reference.at("/models/bytegpt-finetuned/heldout_sum_nll").asDouble(),
            within(RELATIVE * nll));
    double tokens = sum(paired.values().get(MetricNames.TOKENS));
    double klMean = sum(paired.values().get(MetricNames.KL_SUM)) / tokens;
    double agreement = sum(paired.values().get(MetricNames.TOP1_AGREE)) / tokens;
    System.out.printf(
        "bytegpt fine-tune vs base on the held-out text: mean KL %.4f nats, top-1 agreement %.3f%n",
        klMean, agreement);
    assertThat(klMean).isPositive();
    assertThat(agreement).isLessThan(1.0);
    TokenSketch kl = TokenSketch.decode(paired.sketches().get(MetricNames.KL_TOKENS));
    assertThat(kl.count()).isEqualTo(Math.round(tokens));
    assertThat(kl.quantile(0.99))
        .isGreaterThan(klMean); // a percentile far in the tail lies above the mean
  }

  @Test
  void aCandidateOverAnotherVocabularyIsScoredAloneForTheSignatureGateToJudge() throws Exception {
    SubsetRef ids = tokenSubset("ids-256", List.of(new int[] {1, 2, 3}));
    ShardResult paired =
        scorer.score(job("uniform-v300.onnx", ids, 1).withReference(fixture("bytegpt-base.onnx")));
    assertThat(paired.error()).isNull();
    assertThat(paired.values()).containsOnlyKeys(MetricNames.NLL_SUM, MetricNames.TOKENS);
    assertThat(paired.values().get(MetricNames.NLL_SUM)[0])
        .isCloseTo(2 * Math.log(300), within(1e-5));
    assertThat(paired.sketches()).isEmpty();
    assertThat(paired.environment().modelSignature()).contains("300");
  }

  @Test
  void byteTokenizerMapsEachByteToItsValue() throws Exception {
    String text = "Grüße, 1 tab\there!";
    long[] expected = new long[text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length];
    byte[] raw = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    for (int i = 0; i < raw.length; i++) {
      expected[i] = raw[i] & 0xff;
    }
    try (var held = sessions.tokenizer(fixture("tokenizer.json"), 0)) {
      assertThat(held.tokenizer().encode(text).getIds()).containsExactly(expected);
    }
  }

  @Test
  void aRowScoresTheSameAloneAndInsideAPaddedBatch() throws Exception {
    var model = sessions.lease(fixture("bytegpt-base.onnx")).model();
    long[] shortRow = heldout.get(0).chars().mapToLong(c -> c).toArray();
    long[] longRow =
        (heldout.get(1) + " " + heldout.get(2)).chars().limit(128).mapToLong(c -> c).toArray();
    var alone = causalLm.scoreRows(model, new long[][] {shortRow}, 128, 64, 0);
    var batched = causalLm.scoreRows(model, new long[][] {longRow, shortRow}, 128, 64, 0);
    assertThat(batched.batching()).isEqualTo("length-buckets");
    assertThat(batched.paddingRatio()).isGreaterThan(0.1);
    assertThat(batched.nllSum()[1])
        .isCloseTo(alone.nllSum()[0], within(RELATIVE * alone.nllSum()[0]));
  }

  @Test
  void badRowsAndBadModelsAreErrorsNamingTheCause() throws Exception {
    assertThat(
            score(
                    "bytegpt-base.onnx",
                    tokenSubset("one", List.of(new int[] {72, 105}, new int[] {65})),
                    2)
                .error()
                .message())
        .contains("row 1 has a single token");
    assertThat(
            score("bytegpt-base.onnx", tokenSubset("empty", List.of(new int[] {})), 1)
                .error()
                .message())
        .contains("row 0 is empty");
    assertThat(
            score(
                    "bytegpt-base.onnx",
                    tokenSubset("oov", List.of(new int[] {72, 105}, new int[] {72, 300, 5})),
                    2)
                .error()
                .message())
        .contains("row 1: token id 300 at position 1 is outside the vocabulary (0..255)");
    assertThat(score("nan-logits.onnx", heldoutText, 2).error().message())
        .containsPattern("^row [01]: ")
        .contains("non-finite", "NaN");
    assertThat(score("bytegpt-base.onnx", textSubset("nothing", List.of("x")), 1).error().message())
        .contains("row 0 has a single token");

    assertThatThrownBy(
            () ->
                ScoringJob.builder()
                    .jobId("run-p/x")
                    .runId("run-p")
                    .eventId("ev")
                    .model("m")
                    .version("v")
                    .task(Task.CAUSAL_LM)
                    .artifact(fixture("bytegpt-base.onnx"))
                    .goldenSubset(heldoutText)
                    .shardIndex(0)
                    .shardCount(1)
                    .rowStart(0)
                    .rowCount(1)
                    .metrics(List.of())
                    .attempt(1)
                    .deadline(Instant.now())
                    .build())
        .as("the job's contract applies the task's rules")
        .hasMessageContaining("'max_seq_len': is required");
    ScoringJob noTokenizer =
        ScoringJob.builder()
            .jobId("run-p/y")
            .runId("run-p")
            .eventId("ev")
            .model("m")
            .version("v")
            .task(Task.CAUSAL_LM)
            .artifact(fixture("bytegpt-base.onnx"))
            .goldenSubset(heldoutText)
            .maxSeqLen(128)
            .stride(64)
            .shardIndex(0)
            .shardCount(1)
            .rowStart(0)
            .rowCount(1)
            .metrics(List.of())
            .attempt(1)
            .deadline(Instant.now())
            .build();
    assertThat(scorer.score(noTokenizer).error().message()).contains("needs the model's tokenizer");
  }

  @Test
  void anEmbeddingModelIsNotACausalLm() throws Exception {
    ArtifactRef minilm = io.evalfleet.scoring.TestModelsAccess.fp32();
    ScoringJob job =
        ScoringJob.builder()
            .jobId("run-p/z")
            .runId("run-p")
            .eventId("ev")
            .model("m")
            .version("v")
            .task(Task.CAUSAL_LM)
            .artifact(minilm)
            .tokenizer(fixture("tokenizer.json"))
            .goldenSubset(heldoutText)
            .maxSeqLen(128)
            .stride(64)
            .shardIndex(0)
            .shardCount(1)
            .rowStart(0)
            .rowCount(1)
            .metrics(List.of())
            .attempt(1)
            .deadline(Instant.now())
            .build();
    assertThat(scorer.score(job).error().message())
        .contains("has no 'logits' output", "last_hidden_state");
  }
}
