package io.evalfleet.laptop;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.ChangeKind;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.MetricValue;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.Task;
import io.evalfleet.dispatcher.decision.Decider;
import io.evalfleet.dispatcher.decision.MetricVector;
import io.evalfleet.dispatcher.decision.Verdict;
import io.evalfleet.scoring.ShardScorer;
import io.evalfleet.scoring.model.ArtifactCache;
import io.evalfleet.scoring.model.ModelSessions;
import io.evalfleet.scoring.perplexity.CausalLmScorer;
import io.evalfleet.scoring.subset.SubsetReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The repository's byte-level GPT fixtures, scored for real on the held-out English text against
 * {@code bytegpt-base} and judged under the default policy as the kind of change each is: the
 * fine-tune on code as a retrain, the weight-rounded copies ({@code
 * scripts/make_quantized_fixtures.py}) and the half-precision exports as what they are. Prints the
 * token shift each one measures (the figures in docs/decisions.md, "What kind of change").
 */
class ChangeKindFixturesTest {
  static final Path FIXTURES = Path.of("..", "fixtures", "causal-lm").toAbsolutePath().normalize();

  @TempDir static Path dir;
  static ModelSessions sessions;
  static ShardScorer scorer;
  static SubsetRef heldout;
  static int rows;
  static Map<String, double[]> baseline;
  static final Decider DEFAULT = Decider.withDefaultPolicy();

  @BeforeAll
  static void scoreTheBase() throws Exception {
    Storage storage = Storage.withDefaults();
    sessions =
        new ModelSessions(new ArtifactCache(storage, dir.resolve("cache"), Long.MAX_VALUE), 2);
    scorer =
        new ShardScorer(
            List.of(new CausalLmScorer(sessions, new SubsetReader(storage), 16)),
            "test",
            Clock.systemUTC());
    List<String> texts =
        Files.readAllLines(FIXTURES.resolve("heldout.txt")).stream()
            .filter(l -> !l.isBlank())
            .toList();
    rows = texts.size();
    Path file = dir.resolve("heldout.parquet");
    GoldenSubsetWriter.writeTexts(new org.apache.hadoop.fs.Path(file.toUri()), texts, 512);
    heldout =
        new SubsetRef(
            file.toUri().toString(), storage.sha256(file.toUri().toString()), null, Map.of());
    baseline = vector(score("bytegpt-base.onnx", null)).rowValues();
  }

  @AfterAll
  static void close() {
    sessions.close();
  }

  static ArtifactRef fixture(String name) throws Exception {
    String uri = FIXTURES.resolve(name).toUri().toString();
    return new ArtifactRef(uri, Storage.withDefaults().sha256(uri));
  }

  /** One job over every row: the candidate alone, or beside {@code reference}. */
  static ShardResult score(String model, String reference) throws Exception {
    ScoringJob job =
        ScoringJob.builder()
            .jobId("run/0")
            .runId("run")
            .eventId("ev")
            .model("bytegpt")
            .version(model)
            .task(Task.CAUSAL_LM)
            .artifact(fixture(model))
            .tokenizer(fixture("tokenizer.json"))
            .goldenSubset(heldout)
            .maxSeqLen(128)
            .stride(64)
            .shardIndex(0)
            .shardCount(1)
            .rowStart(0)
            .rowCount(rows)
            .metrics(List.of("nll"))
            .attempt(1)
            .deadline(Instant.now().plusSeconds(120))
            .build();
    ShardResult result =
        scorer.score(reference == null ? job : job.withReference(fixture(reference)));
    assertThat(result.error()).as(model).isNull();
    return result;
  }

  static MetricVector vector(ShardResult result) {
    return MetricVector.of(Task.CAUSAL_LM, List.of(result));
  }

  /** The candidate's verdict against bytegpt-base as a change of {@code kind}, printed. */
  static Verdict judge(String model, ChangeKind kind) throws Exception {
    MetricVector candidate = vector(score(model, "bytegpt-base.onnx"));
    Verdict verdict =
        DEFAULT.forChangeKind(kind).compare(candidate, "base", baseline, Map.of(), Map.of());
    Map<String, MetricValue> m = verdict.metrics();
    System.out.printf(
        Locale.ROOT,
        "%-24s as %-12s perplexity %8.3f (%+.1f%%)  kl_mean %.5f  kl_p99 %.5f  top1 %.4f  -> %s%n",
        model,
        kind.wireName(),
        m.get(MetricNames.PERPLEXITY).value(),
        100 * m.get(MetricNames.PERPLEXITY).relativeDelta(),
        m.get(MetricNames.KL_MEAN).value(),
        m.get(MetricNames.KL_P99).value(),
        m.get(MetricNames.TOP1_AGREEMENT).value(),
        verdict.flag());
    return verdict;
  }

  static void assertShift(Verdict verdict, Flag status, boolean gating) {
    for (String metric : Decider.TOKEN_SHIFT) {
      assertThat(verdict.metrics().get(metric).status()).as(metric).isEqualTo(status);
      assertThat(verdict.metrics().get(metric).gating()).as(metric).isEqualTo(gating);
    }
  }

  @Test
  void theFineTuneAsARetrainIsNotRedForItsTokenShiftOnlyForItsPerplexity() throws Exception {
    Verdict verdict = judge("bytegpt-finetuned.onnx", ChangeKind.RETRAIN);
    assertShift(verdict, Flag.RED, false);
    assertThat(verdict.reasons())
        .anyMatch(r -> r.startsWith("token shift reported, not gated: change kind retrain"));
    // Trained further on code, it lost English: its perplexity is what sets the flag.
    assertThat(verdict.metrics().get(MetricNames.PERPLEXITY).status()).isEqualTo(Flag.RED);
    assertThat(verdict.metrics().get(MetricNames.PERPLEXITY).gating()).isTrue();
    assertThat(verdict.flag()).isEqualTo(Flag.RED);
    assertThat(
            verdict.metrics().entrySet().stream()
                .filter(e -> e.getValue().gating() && e.getValue().status() == Flag.RED)
                .map(Map.Entry::getKey))
        .as("the gating metrics that are RED")
        .containsExactlyInAnyOrder(MetricNames.PERPLEXITY, MetricNames.BITS_PER_BYTE);
  }

  @Test
  void theSameFineTuneDeclaredAQuantizationIsRedForItsTokenShift() throws Exception {
    Verdict verdict = judge("bytegpt-finetuned.onnx", ChangeKind.QUANTIZATION);
    assertShift(verdict, Flag.RED, true);
    assertThat(verdict.metrics().get(MetricNames.KL_MEAN).value()).isGreaterThan(1.0);
  }

  @Test
  void anInt4RoundingBeyondTheLimitsIsRedAndAnInt8RoundingIsGreen() throws Exception {
    Verdict int4 = judge("bytegpt-base-int4.onnx", ChangeKind.QUANTIZATION);
    assertThat(int4.metrics().get(MetricNames.KL_MEAN).value()).isGreaterThan(0.05);
    assertThat(int4.metrics().get(MetricNames.KL_MEAN).status()).isEqualTo(Flag.RED);
    assertThat(int4.metrics().get(MetricNames.KL_MEAN).gating()).isTrue();
    assertThat(int4.flag()).isEqualTo(Flag.RED);

    Verdict int8 = judge("bytegpt-base-int8.onnx", ChangeKind.QUANTIZATION);
    assertShift(int8, Flag.GREEN, true);
    assertThat(int8.flag()).isEqualTo(Flag.GREEN);
  }

  @Test
  void anInt5RoundingWithinThePerplexityMarginIsRedForItsTokenShiftOnlyAsAQuantization()
      throws Exception {
    Verdict quantized = judge("bytegpt-base-int5.onnx", ChangeKind.QUANTIZATION);
    MetricValue perplexity = quantized.metrics().get(MetricNames.PERPLEXITY);
    assertThat(perplexity.relativeDelta()).isBetween(0.0, 0.02);
    assertThat(perplexity.status()).isNotEqualTo(Flag.RED);
    MetricValue top1 = quantized.metrics().get(MetricNames.TOP1_AGREEMENT);
    assertThat(top1.value()).isLessThan(0.9);
    assertThat(top1.status()).isEqualTo(Flag.RED);
    assertThat(top1.gating()).isTrue();
    assertThat(quantized.flag()).isEqualTo(Flag.RED);

    Verdict retrained = judge("bytegpt-base-int5.onnx", ChangeKind.RETRAIN);
    assertThat(retrained.metrics().get(MetricNames.TOP1_AGREEMENT).value()).isEqualTo(top1.value());
    assertThat(retrained.flag()).isNotEqualTo(Flag.RED);
  }
}
