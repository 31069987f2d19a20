package io.evalfleet.laptop.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.evalfleet.cli.archive.BaselineHistoryTable;
import io.evalfleet.cli.archive.Promotion;
import io.evalfleet.common.archive.BaselineSnapshot;
import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.archive.EvaluationLock;
import io.evalfleet.common.archive.ScoreKey;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.dispatcher.baseline.BaselineStore;
import io.evalfleet.laptop.embedded.EmbeddedKafka;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pinning and promoting evaluated versions: onto the real baselines topic and into the history. */
class PromotionIT {
  @TempDir Path dir;

  EvaluationLock archived(EvaluationArchive archive, String version, Flag flag) throws Exception {
    Map<String, double[]> rows =
        Map.of("cosine", new double[] {0.5, 0.7, 0.9}, "gold", new double[] {1, 3, 5});
    ScoreKey key =
        ScoreKey.builder()
            .artifactSha256("a".repeat(63) + version.length())
            .externalDataSha256("")
            .tokenizerSha256("t".repeat(64))
            .subsetSha256("d".repeat(64))
            .subsetColumns("{}")
            .task("embedding")
            .evaluatorVersion("evalfleet-scoring/1")
            .build();
    String scores =
        archive.writeScores(
            key,
            rows,
            new EvaluationArchive.Provenance(
                List.of(), List.of(), List.of(), null, "run-" + version));
    EvaluationLock base = lock(version, flag);
    EvaluationLock lock =
        EvaluationLock.builder()
            .lockVersion(base.lockVersion())
            .model("m")
            .version(version)
            .eventId(base.eventId())
            .runId(base.runId())
            .commit("commit-" + version)
            .task(base.task())
            .artifact(base.artifact())
            .tokenizerSha256(base.tokenizerSha256())
            .goldenSubsetUri(base.goldenSubsetUri())
            .goldenSubsetSha256(base.goldenSubsetSha256())
            .goldenSubsetColumns(base.goldenSubsetColumns())
            .evaluatorVersion(base.evaluatorVersion())
            .onnxRuntime(base.onnxRuntime())
            .executionProviders(base.executionProviders())
            .hardware(base.hardware())
            .modelSignature(base.modelSignature())
            .policyVersion("1")
            .flag(flag)
            .metrics(base.metrics())
            .scores(scores)
            .scoresReused(false)
            .decidedAt(Instant.now())
            .embedding(base.embedding())
            .build();
    archive.writeLock(lock);
    return lock;
  }

  @Test
  void pinAndPromotePublishTheBaselineAndRecordTheHistoryButRefuseWhatWasNotEvaluatedWell()
      throws Exception {
    EvaluationArchive archive =
        new EvaluationArchive(Storage.withDefaults(), dir.resolve("archive").toUri().toString());
    archived(archive, "v1", Flag.WARN);
    archived(archive, "v2", Flag.GREEN);
    archived(archive, "v3", Flag.WARN);
    archived(archive, "v4", Flag.ERROR);
    Clock clock =
        new Clock() { // a second later at every reading: the history's order is the pinning order
          private Instant now = Instant.parse("2026-11-24T12:00:00Z");

          @Override
          public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
          }

          @Override
          public Clock withZone(java.time.ZoneId zone) {
            return this;
          }

          @Override
          public synchronized Instant instant() {
            now = now.plusSeconds(1);
            return now;
          }
        };
    try (EmbeddedKafka kafka = EmbeddedKafka.start(1)) {
      FleetConfig config =
          FleetConfig.defaults()
              .with(Map.of(FleetConfig.BOOTSTRAP_SERVERS.key(), kafka.bootstrapServers()));
      try (var producer = KafkaClients.producer(config, "test")) {
        BaselineStore store = new BaselineStore(producer);
        Promotion promotion = new Promotion(archive, store, clock);

        Promotion.Outcome pinned = promotion.apply("m", "v1", false, false);
        assertThat(pinned.previous()).isEmpty();
        assertThat(promotion.apply("m", "v2", true, false).previous())
            .get()
            .satisfies(p -> assertThat(p.version()).isEqualTo("v1"));
        assertThatThrownBy(() -> promotion.apply("m", "v3", true, false))
            .isInstanceOf(Promotion.Refused.class)
            .hasMessage(
                "version v3 of model m was flagged WARN, not GREEN: promote it anyway with --force, or pin it");
        assertThat(promotion.apply("m", "v3", true, true).forced()).isTrue();
        assertThatThrownBy(() -> promotion.apply("m", "v4", false, false))
            .isInstanceOf(Promotion.Refused.class)
            .hasMessageContaining("was flagged ERROR");
        assertThatThrownBy(() -> promotion.apply("m", "v9", false, false))
            .isInstanceOf(Promotion.Refused.class)
            .hasMessageContaining("has no lockfile at")
            .hasMessageContaining("locks/m/v9.lock.json");

        BaselineStore fresh = new BaselineStore(producer);
        try (var reader = KafkaClients.reader(config, "check")) {
          fresh.load(reader, Duration.ofSeconds(30));
        }
        var production = fresh.production("m").orElseThrow();
        assertThat(production.version()).isEqualTo("v3");
        assertThat(production.commit()).isEqualTo("commit-v3");
        assertThat(archive.readScores(production.scores()).get("cosine"))
            .containsExactly(0.5, 0.7, 0.9);
        assertThat(production.metrics()).containsEntry("spearman", 1.0);
      }
    }
    List<BaselineSnapshot> history = archive.baselineHistory("m");
    assertThat(history).extracting(BaselineSnapshot::version).containsExactly("v1", "v2", "v3");
    assertThat(history)
        .extracting(BaselineSnapshot::reason)
        .containsExactly("pinned", "promoted", "promoted (forced from WARN)");
    assertThat(BaselineHistoryTable.render("m", history))
        .contains("recorded at (UTC)")
        .contains("v2                  promoted")
        .contains("commit-v2")
        .contains("1.0000");
    assertThat(BaselineHistoryTable.render("other", List.of()))
        .isEqualTo("model other has no baseline history\n");
  }

  private static EvaluationLock lock(String version, Flag flag) {
    return EvaluationLock.builder()
        .model("m")
        .version(version)
        .eventId("ev-" + version)
        .runId("run-" + version)
        .commit("c0ffee")
        .task("embedding")
        .artifact(new ArtifactRef("file:///models/" + version + "/model.onnx", "a".repeat(64)))
        .tokenizerSha256("t".repeat(64))
        .goldenSubsetUri("file:///golden/pairs.parquet")
        .goldenSubsetSha256("d".repeat(64))
        .evaluatorVersion("evalfleet-scoring/1")
        .onnxRuntime(List.of("onnxruntime 1.29.0"))
        .executionProviders(List.of("cpu"))
        .hardware(List.of("linux/amd64, 2 cores"))
        .quantizationBits(32)
        .maxSeqLen(256)
        .modelSignature("in a -> out b")
        .policyVersion("1")
        .baselineVersion("v0")
        .flag(flag)
        .metrics(
            Map.of(
                "spearman",
                EvaluationLock.LockedMetric.builder()
                    .value(1.0)
                    .relativeChange(0.001)
                    .ciLow(-0.004)
                    .ciHigh(0.008)
                    .ciConfidence(0.95)
                    .status(flag)
                    .build()))
        .scores("file:///archive/scores/x.parquet")
        .scoresReused(false)
        .decidedAt(Instant.parse("2026-11-20T10:00:00Z"))
        .build();
  }
}
