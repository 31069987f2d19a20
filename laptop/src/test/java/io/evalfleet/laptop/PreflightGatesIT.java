package io.evalfleet.laptop;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.cli.FlagWatcher;
import io.evalfleet.cli.Submitter;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.Task;
import io.evalfleet.laptop.demo.DemoAssets;
import io.evalfleet.laptop.embedded.LocalFleet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gates that stop a comparison that would mislead: a changed model signature, a changed
 * tokenizer (perplexity then counts other tokens), an adapter trained on another base model. Each
 * pair is staged through a real fleet; the baseline comes first, then the candidate.
 */
class PreflightGatesIT {
  static final Duration WAIT = Duration.ofMinutes(2);
  @TempDir static Path dir;
  static LocalFleet fleet;
  static FlagWatcher flags;
  static Submitter submitter;
  static DemoAssets.ModelFiles base;
  static DemoAssets.ModelFiles v300;
  static SubsetRef text;
  static ArtifactRef otherTokenizer;

  @BeforeAll
  static void startFleet() throws Exception {
    DemoAssets assets = new DemoAssets(dir);
    base = assets.causalModel(DemoAssets.CausalModel.BYTEGPT_BASE);
    v300 = assets.causalModel(DemoAssets.CausalModel.UNIFORM_V300);
    text = assets.heldoutText();
    // The same vocabulary written differently: another file, another digest, as a retrained
    // tokenizer has.
    Path tokenizer =
        Files.writeString(
            dir.resolve("other-tokenizer.json"),
            Files.readString(Path.of(java.net.URI.create(base.tokenizer().uri()))) + "\n");
    otherTokenizer =
        new ArtifactRef(
            tokenizer.toUri().toString(),
            Storage.withDefaults().sha256(tokenizer.toUri().toString()));
    fleet =
        LocalFleet.start(
            FleetConfig.defaults()
                .with(
                    Map.of(
                        FleetConfig.INTRA_OP_THREADS.key(),
                        "1",
                        FleetConfig.ARCHIVE_ROOT.key(),
                        dir.resolve("archive").toUri().toString())),
            1,
            dir.resolve("cache"));
    flags = new FlagWatcher(fleet.config(), true);
    submitter = new Submitter(fleet.config());
  }

  @AfterAll
  static void stopFleet() throws Exception {
    submitter.close();
    flags.close();
    fleet.close();
  }

  static StagedWeightEvent event(
      String model,
      String version,
      ArtifactRef onnx,
      ArtifactRef tokenizer,
      SubsetRef subset,
      String baseModel) {
    return StagedWeightEvent.builder()
        .eventId(model + "-" + version + "-" + UUID.randomUUID())
        .model(model)
        .version(version)
        .task(Task.CAUSAL_LM)
        .artifact(onnx)
        .tokenizer(tokenizer)
        .goldenSubset(subset)
        .maxSeqLen(DemoAssets.CAUSAL_CONTEXT)
        .stride(64)
        .baseModelSha256(baseModel)
        .createdAt(Instant.now())
        .build();
  }

  static DriftFlag stage(StagedWeightEvent event) throws Exception {
    submitter.submit(event);
    return flags.await(event.eventId(), WAIT);
  }

  @Test
  void changedOutputSignatureIsRedNamingBothSignatures() throws Exception {
    assertThat(stage(event("sig", "v1", base.onnx(), base.tokenizer(), text, null)).flag())
        .isEqualTo(Flag.WARN);
    DriftFlag flag = stage(event("sig", "v2", v300.onnx(), base.tokenizer(), text, null));
    assertThat(flag.flag()).isEqualTo(Flag.RED);
    // Beside the change kind it was judged as, the signature gate is the one verdict.
    assertThat(flag.reasons())
        .filteredOn(r -> !r.startsWith("change kind ") && !r.startsWith("token shift not measured"))
        .singleElement()
        .asString()
        .startsWith("signature gate: the model's inputs or outputs changed")
        .contains("logits:FLOAT[-1,-1,256]")
        .contains("logits:FLOAT[-1,-1,300]");
  }

  @Test
  void changedTokenizerLeavesPerplexityOutAndComparesBitsPerByte() throws Exception {
    stage(event("tok", "v1", base.onnx(), base.tokenizer(), text, null));
    DriftFlag flag = stage(event("tok", "v2", base.onnx(), otherTokenizer, text, null));
    assertThat(flag.flag()).as(String.join("\n", flag.reasons())).isEqualTo(Flag.GREEN);
    assertThat(flag.metrics().get(MetricNames.PERPLEXITY).status())
        .as("perplexity decides nothing")
        .isNull();
    assertThat(flag.metrics().get(MetricNames.BITS_PER_BYTE).status()).isEqualTo(Flag.GREEN);
    assertThat(flag.reasons())
        .anyMatch(
            r ->
                r.startsWith("perplexity not compared: tokenizer changed (baseline ")
                    && r.contains("bits per byte is compared instead"));
  }

  @Test
  void changedTokenizerOnTokenIdsIsAnErrorBeforeScoring() throws Exception {
    Path file = dir.resolve("token-rows.parquet");
    GoldenSubsetWriter.writeTokenIds(
        new org.apache.hadoop.fs.Path(file.toUri()),
        List.of(new int[] {72, 101, 108, 108, 111}, new int[] {87, 111, 114, 108, 100, 33}),
        1 << 20);
    SubsetRef tokens =
        new SubsetRef(
            file.toUri().toString(),
            Storage.withDefaults().sha256(file.toUri().toString()),
            null,
            Map.of());
    stage(event("ids", "v1", base.onnx(), base.tokenizer(), tokens, null));
    DriftFlag flag = stage(event("ids", "v2", base.onnx(), otherTokenizer, tokens, null));
    assertThat(flag.flag()).isEqualTo(Flag.ERROR);
    assertThat(flag.reasons())
        .singleElement()
        .asString()
        .startsWith("tokenizer gate: tokenizer changed")
        .contains("neither perplexity nor bits per byte can be compared");
    assertThat(flag.coverage()).as("nothing was scored").isNull();
  }

  @Test
  void adapterOnAnotherBaseModelIsAnErrorBeforeScoring() throws Exception {
    String baseA = "a".repeat(64);
    stage(event("adapter", "v1", base.onnx(), base.tokenizer(), text, baseA));
    DriftFlag same = stage(event("adapter", "v2", base.onnx(), base.tokenizer(), text, baseA));
    assertThat(same.flag()).isEqualTo(Flag.GREEN);
    DriftFlag other =
        stage(event("adapter", "v3", base.onnx(), base.tokenizer(), text, "b".repeat(64)));
    assertThat(other.flag()).isEqualTo(Flag.ERROR);
    assertThat(other.reasons())
        .singleElement()
        .asString()
        .startsWith("adapter gate: version v3 is an adapter on base model bbbbbbbbbbbb")
        .contains("baseline version v1 is built on aaaaaaaaaaaa");
  }
}
