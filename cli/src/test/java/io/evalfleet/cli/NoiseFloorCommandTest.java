package io.evalfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.archive.NoiseFloorRecord;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.subset.GoldenSubsetWriter.Pair;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code evalfleet noise-floor} on the byte-table fixture model, whose embeddings are exact sums of
 * table rows: batching cannot move them, so its floor is 0, and it is archived per profile.
 */
class NoiseFloorCommandTest {
  static final Path FIXTURES = Path.of("..", "fixtures").toAbsolutePath().normalize();
  static final Path MODEL = FIXTURES.resolve("embedding/bytes-no-token-types.onnx");
  static final String BYTE_TOKENIZER = FIXTURES.resolve("causal-lm/tokenizer.json").toString();

  @TempDir Path dir;

  record Run(int exit, String out) {}

  Run noiseFloor(String... args) {
    PrintStream original = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StringWriter err = new StringWriter();
    List<String> all =
        new ArrayList<>(
            List.of("noise-floor", "--log-file", dir.resolve("noise-floor.log").toString()));
    all.addAll(List.of(args));
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      var line = Evalfleet.commandLine();
      line.setErr(new PrintWriter(err, true));
      int exit = Evalfleet.execute(line, all.toArray(String[]::new));
      return new Run(exit, out.toString(StandardCharsets.UTF_8) + err);
    } finally {
      System.setOut(original);
    }
  }

  Path subset() throws Exception {
    Path file = dir.resolve("pairs.parquet");
    GoldenSubsetWriter.writePairs(
        new org.apache.hadoop.fs.Path(file.toUri()),
        List.of(
            new Pair(0, "a cat", "a cat sat on the warm mat all afternoon", 3.0),
            new Pair(1, "rain", "heavy rain flooded the roads", 2.0),
            new Pair(2, "the train was late again today", "late train", 4.0),
            new Pair(3, "hi", "hello there", 1.0)),
        1 << 20);
    return file;
  }

  @Test
  void measuresAZeroFloorForABatchInvariantModelAndArchivesItPerProfile() throws Exception {
    Path archiveRoot = dir.resolve("archive");
    Run run =
        noiseFloor(
            MODEL.toString(),
            "--tokenizer",
            BYTE_TOKENIZER,
            "--subset",
            subset().toString(),
            "--threads",
            "1",
            "--deterministic",
            "off,on",
            "--name",
            "bytes",
            "-D",
            "archive.root=" + archiveRoot.toUri());

    assertThat(run.exit()).as(run.out()).isZero();
    assertThat(run.out())
        .contains("cpu batch 1 threads 1 det off")
        .contains("cpu batch 32 threads 1 det on")
        .contains("cuda: not available, skipped")
        .contains("noise floor on profile cpu-")
        .contains("mean_cosine")
        .contains("archived: ");
    String sha256 = Storage.withDefaults().sha256(MODEL.toUri().toString());
    String profile =
        run.out()
            .lines()
            .filter(l -> l.startsWith("noise floor on profile "))
            .findFirst()
            .orElseThrow()
            .split(" ")[4];
    Optional<NoiseFloorRecord> floor =
        new EvaluationArchive(Storage.withDefaults(), archiveRoot.toUri().toString())
            .noiseFloor(sha256, profile);
    assertThat(floor).isPresent();
    assertThat(floor.get().envelopes())
        .extracting(e -> e.maxBatchSize() + (e.deterministicCompute() ? " on" : " off"))
        .containsExactly("1 off", "8 off", "32 off", "1 on", "8 on", "32 on");
    assertThat(floor.get().model()).isEqualTo("bytes");
    assertThat(floor.get().rows()).isEqualTo(4);
    assertThat(floor.get().rowValues().get("cosine").maxAbsDelta()).isLessThan(1e-6);
    assertThat(floor.get().metrics().get("mean_cosine").spread()).isLessThan(1e-6);
  }

  @Test
  void aRetrievalModelIsRefusedAsBadInput() throws Exception {
    Run run =
        noiseFloor(
            MODEL.toString(),
            "--tokenizer",
            BYTE_TOKENIZER,
            "--subset",
            subset().toString(),
            "--task",
            "retrieval",
            "--dry-run");

    assertThat(run.exit()).as(run.out()).isEqualTo(ExitCode.BAD_INPUT);
    assertThat(run.out())
        .contains("noise-floor measures embedding and causal-lm models, not retrieval");
  }
}
