package io.evalfleet.laptop;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.cli.FlagWatcher;
import io.evalfleet.cli.Submitter;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.task.Task;
import io.evalfleet.laptop.demo.DemoAssets;
import io.evalfleet.laptop.embedded.LocalFleet;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every kind of bad input a training pipeline or a broken store can produce, through one running
 * fleet: each ends in exactly one ERROR flag whose reason names the cause, and the fleet goes on
 * serving good events afterwards.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BadInputMatrixIT {
  static final Duration WAIT = Duration.ofMinutes(2);

  @TempDir static Path dir;
  @TempDir static Path elsewhere;
  static LocalFleet fleet;
  static FlagWatcher flags;
  static Submitter submitter;
  static DemoAssets.ModelFiles minilm;
  static DemoAssets.ModelFiles lm;
  static SubsetRef pairs;
  static SubsetRef heldout;

  /** The event ids of the cases that ran, each of which must end with exactly one flag. */
  static final List<String> decided = java.util.Collections.synchronizedList(new ArrayList<>());

  @BeforeAll
  static void startFleet() throws Exception {
    DemoAssets assets = new DemoAssets(dir);
    minilm = assets.model(DemoAssets.Model.MINILM_FP32);
    lm = assets.causalModel(DemoAssets.CausalModel.BYTEGPT_BASE);
    heldout = assets.heldoutText();
    pairs =
        subset(
            "pairs",
            List.of(
                new GoldenSubsetWriter.Pair(0, "A cat sleeps.", "A cat is sleeping.", 4.8),
                new GoldenSubsetWriter.Pair(1, "It rains.", "The bank is closed.", 0.0)));
    fleet =
        LocalFleet.start(
            FleetConfig.defaults()
                .with(
                    Map.of(
                        FleetConfig.INTRA_OP_THREADS.key(), "1",
                        FleetConfig.ARCHIVE_ROOT.key(), dir.resolve("archive").toUri().toString(),
                        FleetConfig.ALLOWED_ROOTS.key(), dir.toUri().toString())),
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

  static SubsetRef subset(String name, List<GoldenSubsetWriter.Pair> rows) throws Exception {
    Path file = dir.resolve(name + ".parquet");
    GoldenSubsetWriter.writePairs(new org.apache.hadoop.fs.Path(file.toUri()), rows, 1 << 20);
    return new SubsetRef(file.toUri().toString(), sha(file), null, Map.of());
  }

  static String sha(Path file) throws Exception {
    return Storage.withDefaults().sha256(file.toUri().toString());
  }

  static ArtifactRef ref(Path file) throws Exception {
    return new ArtifactRef(file.toUri().toString(), sha(file));
  }

  static StagedWeightEvent event(ArtifactRef model, ArtifactRef tokenizer, SubsetRef subset) {
    return StagedWeightEvent.builder()
        .eventId("bad-" + UUID.randomUUID())
        .model("matrix")
        .version("v1")
        .task(Task.EMBEDDING)
        .artifact(model)
        .tokenizer(tokenizer)
        .goldenSubset(subset)
        .createdAt(Instant.now())
        .build();
  }

  /** A good event's JSON with one edit applied. */
  static String edited(UnaryOperator<String> edit) {
    return edit.apply(Json.writeString(event(minilm.onnx(), minilm.tokenizer(), pairs)));
  }

  record Case(String name, byte[] message, String reason) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Case raw(String name, String json, String reason) {
    return new Case(name, json.getBytes(StandardCharsets.UTF_8), reason);
  }

  static Case staged(String name, StagedWeightEvent event, String reason) {
    return new Case(name, Json.write(event), reason);
  }

  static List<Case> cases() throws Exception {
    Path truncated = dir.resolve("truncated.onnx");
    byte[] model = Files.readAllBytes(Path.of(java.net.URI.create(minilm.onnx().uri())));
    Files.write(truncated, java.util.Arrays.copyOf(model, model.length / 3));
    Path notOnnx = Files.writeString(dir.resolve("notes.onnx"), "weights: see the wiki\n");
    Path notParquet =
        Files.writeString(dir.resolve("pairs.csv.parquet"), "id,text_a,text_b\n1,a,b\n");
    Path outside =
        Files.copy(
            Path.of(java.net.URI.create(minilm.tokenizer().uri())),
            elsewhere.resolve("tokenizer.json"));
    SubsetRef empty = subset("empty", List.of());
    List<Case> cases = new ArrayList<>();
    cases.add(raw("malformed JSON", "{\"schema_version\": 1, \"event_id\": ", "malformed JSON"));
    cases.add(raw("JSON null", "null", "message is JSON null"));
    cases.add(raw("JSON array", "[1, 2]", "wrong type"));
    cases.add(
        raw(
            "unknown schema version",
            edited(j -> j.replace("\"schema_version\":1", "\"schema_version\":9")),
            "version 9 is not supported"));
    cases.add(
        raw(
            "missing field",
            edited(j -> j.replace("\"golden_subset\":", "\"golden_subzet\":")),
            "field 'golden_subset': is required"));
    cases.add(
        raw(
            "wrong type",
            edited(j -> j.replace("\"version\":\"v1\"", "\"version\":1")),
            "field 'version': has the wrong type"));
    cases.add(
        raw(
            "bad sha256",
            edited(j -> j.replaceFirst("\"sha256\":\"[0-9a-f]{64}\"", "\"sha256\":\"abc\"")),
            "field 'artifact.sha256': must be a sha256 digest"));
    cases.add(
        raw(
            "unsupported URI scheme",
            edited(j -> j.replaceFirst("\"uri\":\"file:", "\"uri\":\"http:")),
            "unsupported scheme 'http'"));
    cases.add(
        raw(
            "unknown task",
            edited(j -> j.replace("\"task\":\"embedding\"", "\"task\":\"vision\"")),
            "must be one of [embedding, causal-lm, retrieval]"));
    cases.add(
        raw(
            "oversized message",
            edited(
                j ->
                    j.replace(
                        "\"version\":\"v1\"",
                        "\"version\":\"v1\",\"commit\":\"" + "x".repeat(100_000) + "\"")),
            "a staged event may be at most 65536"));
    cases.add(
        staged(
            "artifact that does not exist",
            event(
                new ArtifactRef(dir.resolve("gone.onnx").toUri().toString(), "a".repeat(64)),
                minilm.tokenizer(),
                pairs),
            "no such file"));
    cases.add(
        staged(
            "sha256 mismatch",
            event(new ArtifactRef(minilm.onnx().uri(), "b".repeat(64)), minilm.tokenizer(), pairs),
            "artifact: sha256 mismatch"));
    cases.add(
        staged(
            "tokenizer sha256 mismatch",
            event(minilm.onnx(), new ArtifactRef(minilm.tokenizer().uri(), "c".repeat(64)), pairs),
            "tokenizer: sha256 mismatch"));
    Path weights = Files.writeString(dir.resolve("weights.bin"), "external weights");
    cases.add(
        staged(
            "external data file with the wrong sha256",
            event(
                new ArtifactRef(
                    minilm.onnx().uri(),
                    minilm.onnx().sha256(),
                    List.of(new ArtifactRef(weights.toUri().toString(), "d".repeat(64)))),
                minilm.tokenizer(),
                pairs),
            "artifact.external_data[0]: sha256 mismatch"));
    cases.add(
        raw(
            "external data named like its model",
            edited(
                j ->
                    j.replaceFirst(
                        "(\"artifact\":\\{\"uri\":\"([^\"]+)\",\"sha256\":\"([0-9a-f]{64})\")",
                        "$1,\"external_data\":[{\"uri\":\"$2\",\"sha256\":\"$3\"}]")),
            "has the model's own file name"));
    cases.add(
        staged(
            "truncated ONNX file",
            event(ref(truncated), minilm.tokenizer(), pairs),
            "is not a loadable ONNX model"));
    cases.add(
        staged(
            "file that is not ONNX",
            event(ref(notOnnx), minilm.tokenizer(), pairs),
            "is not a loadable ONNX model"));
    cases.add(
        staged(
            "Parquet file missing a column",
            event(
                minilm.onnx(),
                minilm.tokenizer(),
                new SubsetRef(pairs.uri(), pairs.sha256(), null, Map.of("text_b", "sentence2"))),
            "no column 'sentence2' (text_b)"));
    cases.add(
        staged(
            "column of the wrong type",
            event(
                minilm.onnx(),
                minilm.tokenizer(),
                new SubsetRef(pairs.uri(), pairs.sha256(), null, Map.of("text_b", "gold"))),
            "must be a UTF-8 string column"));
    cases.add(
        staged("empty subset", event(minilm.onnx(), minilm.tokenizer(), empty), "has no rows"));
    cases.add(
        staged(
            "subset that is not Parquet",
            event(
                minilm.onnx(),
                minilm.tokenizer(),
                new SubsetRef(notParquet.toUri().toString(), sha(notParquet), null, Map.of())),
            "not a readable Parquet file"));
    cases.add(
        staged(
            "path outside the allowed roots",
            event(minilm.onnx(), ref(outside), pairs),
            "outside the allowed storage roots"));
    cases.add(
        raw(
            "causal LM without max_seq_len",
            edited(j -> j.replace("\"task\":\"embedding\"", "\"task\":\"causal-lm\"")),
            "field 'max_seq_len': is required for task causal-lm"));
    cases.add(
        raw(
            "causal LM stride equal to max_seq_len",
            edited(
                j ->
                    j.replace(
                        "\"task\":\"embedding\"",
                        "\"task\":\"causal-lm\",\"max_seq_len\":64,\"stride\":64")),
            "field 'stride': 64 must be smaller than max_seq_len 64"));
    SubsetRef oneToken = textSubset("one-token", List.of("Fine.", "x"));
    cases.add(
        staged(
            "row of one token",
            StagedWeightEvent.builder()
                .eventId("bad-" + UUID.randomUUID())
                .model("matrix-lm")
                .version("v1")
                .task(Task.CAUSAL_LM)
                .artifact(lm.onnx())
                .tokenizer(lm.tokenizer())
                .goldenSubset(oneToken)
                .maxSeqLen(128)
                .build(),
            "row 1 has a single token"));
    cases.add(
        staged(
            "retrieval subset without judgements",
            retrievalEvent(retrievalSubset("no-qrels", List.of())),
            "has 2 doc, 1 query and 0 qrel rows"));
    cases.add(
        staged(
            "retrieval judgement of a doc not in the corpus",
            retrievalEvent(
                retrievalSubset(
                    "stray-qrel", List.of(new GoldenSubsetWriter.Judgement("q0", "d7", 1)))),
            "judges doc 'd7', which is not in the corpus"));
    return cases;
  }

  static SubsetRef retrievalSubset(String name, List<GoldenSubsetWriter.Judgement> qrels)
      throws Exception {
    Path file = dir.resolve(name + ".parquet");
    GoldenSubsetWriter.writeRetrieval(
        new org.apache.hadoop.fs.Path(file.toUri()),
        new GoldenSubsetWriter.Retrieval(
            Map.of("d0", "A dog runs in the park.", "d1", "Stocks fell."),
            Map.of("q0", "a running dog"),
            qrels),
        1 << 20);
    return new SubsetRef(file.toUri().toString(), sha(file), null, Map.of());
  }

  static StagedWeightEvent retrievalEvent(SubsetRef subset) {
    return StagedWeightEvent.builder()
        .eventId("bad-" + UUID.randomUUID())
        .model("matrix-search")
        .version("v1")
        .task(Task.RETRIEVAL)
        .artifact(minilm.onnx())
        .tokenizer(minilm.tokenizer())
        .goldenSubset(subset)
        .build();
  }

  static SubsetRef textSubset(String name, List<String> texts) throws Exception {
    Path file = dir.resolve(name + ".parquet");
    GoldenSubsetWriter.writeTexts(new org.apache.hadoop.fs.Path(file.toUri()), texts, 1 << 20);
    return new SubsetRef(file.toUri().toString(), sha(file), null, Map.of());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  @Order(1)
  void endsInOneErrorFlagNamingTheCause(Case c) throws Exception {
    var landed = submitter.submitRaw("matrix", c.message());
    // The dispatcher's own rule decides which id even an unreadable record is flagged under.
    String eventId =
        StagedWeightEvent.eventIdOf(
            c.message(), landed.topic(), landed.partition(), landed.offset());
    DriftFlag flag = flags.await(eventId, WAIT);
    assertThat(flag.flag()).as(c.name()).isEqualTo(Flag.ERROR);
    assertThat(flag.reasons()).as(c.name()).anyMatch(r -> r.contains(c.reason()));
    decided.add(eventId);
  }

  /**
   * After every bad input: the fleet still serves good events, and no bad one got a second flag.
   */
  @Test
  @Order(2)
  void fleetStillServesAndFlaggedEachBadInputOnce() throws Exception {
    StagedWeightEvent good = event(minilm.onnx(), minilm.tokenizer(), pairs);
    submitter.submit(good);
    assertThat(flags.await(good.eventId(), WAIT).flag()).isEqualTo(Flag.WARN);
    flags.poll(Duration.ofSeconds(2));
    assertThat(decided).hasSizeGreaterThanOrEqualTo(15);
    for (String eventId : decided) {
      assertThat(flags.count(eventId)).as(eventId).isEqualTo(1);
    }
  }
}
