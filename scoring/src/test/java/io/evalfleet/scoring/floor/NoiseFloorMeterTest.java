package io.evalfleet.scoring.floor;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtEnvironment;
import io.evalfleet.common.archive.NoiseFloorRecord;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.subset.GoldenSubsetWriter.Pair;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.Task;
import io.evalfleet.scoring.TestModels;
import io.evalfleet.scoring.floor.NoiseFloorMeter.Measurement;
import io.evalfleet.scoring.floor.NoiseFloorMeter.Setup;
import io.evalfleet.scoring.model.ExecutionProvider;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The A/A noise floor of the real all-MiniLM-L6-v2 models across batch sizes 1, 8 and 32: the fp32
 * graph is batch-invariant, the dynamically quantised int8 one is not (one quantisation scale per
 * batch, so padding and neighbours move a text's embedding).
 */
class NoiseFloorMeterTest {
  /** Short and long texts mixed, so that a padded batch pads some rows a lot. */
  static final List<Pair> PAIRS =
      List.of(
          new Pair(0, "A man is eating food.", "A man is eating a piece of bread.", 3.8),
          new Pair(1, "A woman is playing the violin.", "A woman plays a violin on stage.", 4.4),
          new Pair(
              2,
              "The stock market fell sharply today after the central bank raised interest rates.",
              "A child is riding a red bicycle in the park.",
              0.0),
          new Pair(3, "Two dogs run across a snowy field.", "Dogs run in snow.", 4.6),
          new Pair(4, "He is not going to the meeting.", "He will attend the meeting.", 1.4),
          new Pair(
              5,
              "Heavy rain caused flooding in the northern districts overnight, closing roads.",
              "It rained.",
              2.0),
          new Pair(6, "A cat sleeps.", "A kitten is napping on a warm windowsill in the sun.", 3.5),
          new Pair(
              7,
              "Quarterly revenue rose after the company opened three new factories overseas.",
              "Sales went up.",
              2.6),
          new Pair(8, "Hi.", "Hello there, how are you doing this fine morning?", 1.0),
          new Pair(9, "The train was late.", "The train arrived late again.", 4.2));

  @TempDir static Path dir;
  static SubsetRef subset;
  static ArtifactRef tokenizer;

  @BeforeAll
  static void setUp() throws Exception {
    Path file = dir.resolve("pairs.parquet");
    GoldenSubsetWriter.writePairs(new org.apache.hadoop.fs.Path(file.toUri()), PAIRS, 1 << 20);
    String uri = file.toUri().toString();
    subset = new SubsetRef(uri, Storage.withDefaults().sha256(uri), "t", Map.of());
    tokenizer = TestModels.tokenizer();
  }

  static ScoringJob job(ArtifactRef model) {
    return ScoringJob.builder()
        .jobId("noise-floor/0")
        .runId("noise-floor")
        .eventId("noise-floor")
        .model("m")
        .version("v")
        .task(Task.EMBEDDING)
        .artifact(model)
        .tokenizer(tokenizer)
        .goldenSubset(subset)
        .shardIndex(0)
        .shardCount(1)
        .rowStart(0)
        .rowCount(PAIRS.size())
        .metrics(List.of(MetricNames.COSINE))
        .attempt(1)
        .deadline(Instant.now().plusSeconds(600))
        .build();
  }

  static NoiseFloorMeter meter() {
    return new NoiseFloorMeter(
        Storage.withDefaults(),
        dir.resolve("cache"),
        values ->
            Map.of(
                MetricNames.MEAN_COSINE,
                Arrays.stream(values.get(MetricNames.COSINE)).average().orElseThrow()),
        256,
        Clock.systemUTC());
  }

  static final List<Setup> BATCHES =
      Setup.grid(List.of(ExecutionProvider.CPU), List.of(1, 8, 32), List.of(1), List.of(false));

  @Test
  void fp32FloorAcrossBatchSizesIsBelowOneMillionthOfACosine() throws Exception {
    Measurement measurement = meter().measure("minilm", job(TestModels.fp32()), BATCHES);

    assertThat(measurement.runs()).hasSize(3);
    assertThat(measurement.floors()).hasSize(1);
    NoiseFloorRecord floor = measurement.floors().get(0);
    assertThat(floor.envelopes()).extracting(e -> e.maxBatchSize()).containsExactly(1, 8, 32);
    assertThat(floor.envelopes())
        .allSatisfy(e -> assertThat(e.batching()).isEqualTo("padded-batches"));
    assertThat(floor.rowValues().get(MetricNames.COSINE).maxAbsDelta()).isLessThanOrEqualTo(1e-5);
    assertThat(floor.metrics().get(MetricNames.MEAN_COSINE).spread()).isLessThanOrEqualTo(1e-5);
    assertThat(floor.artifactSha256()).isEqualTo(TestModels.fp32().sha256());
    assertThat(floor.envelopes())
        .allSatisfy(
            e -> {
              assertThat(e.executionProvider()).isEqualTo("cpu");
              assertThat(e.onnxRuntime()).isEqualTo(OrtEnvironment.getEnvironment().getVersion());
              assertThat(e.intraOpThreads()).isEqualTo(1);
              assertThat(e.deterministicCompute()).isFalse();
              assertThat(e.cpuArch()).isEqualTo(System.getProperty("os.arch"));
              assertThat(e.gpu()).isNull();
            });
    assertThat(floor.profile()).isEqualTo(floor.envelopes().get(0).profile());
  }

  @Test
  void int8FloorAcrossBatchSizesIsAboveOneThousandthOfACosine() throws Exception {
    Measurement measurement = meter().measure("minilm-q", job(TestModels.int8()), BATCHES);

    NoiseFloorRecord floor = measurement.floors().get(0);
    assertThat(floor.rowValues().get(MetricNames.COSINE).maxAbsDelta()).isGreaterThan(1e-3);
    assertThat(floor.rowValues().get(MetricNames.COSINE).p99AbsDelta())
        .isLessThanOrEqualTo(floor.rowValues().get(MetricNames.COSINE).maxAbsDelta());
    assertThat(floor.metrics().get(MetricNames.MEAN_COSINE).spread()).isGreaterThan(0);
  }

  @Test
  void cudaSetupsAreSkippedOnAMachineWithoutIt() throws Exception {
    List<Setup> setups =
        List.of(
            new Setup(ExecutionProvider.CPU, 1, 1, false),
            new Setup(ExecutionProvider.CPU, 8, 1, false),
            new Setup(ExecutionProvider.CUDA, 1, 1, false),
            new Setup(ExecutionProvider.CUDA, 8, 1, false));

    Measurement measurement = meter().measure("minilm", job(TestModels.fp32()), setups);

    assertThat(measurement.skipped()).containsExactly("cuda: not available, skipped");
    assertThat(measurement.runs())
        .extracting(r -> r.envelope().executionProvider())
        .containsOnly("cpu");
  }
}
