package io.evalfleet.common.subset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.evalfleet.common.storage.DigestMismatchException;
import io.evalfleet.common.storage.Storage;
import java.io.FileNotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GoldenSubsetFileTest {
  @TempDir Path dir;
  final Storage storage = Storage.withDefaults();

  static List<GoldenSubsetWriter.Pair> pairs(int n) {
    List<GoldenSubsetWriter.Pair> pairs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      pairs.add(
          new GoldenSubsetWriter.Pair(
              i,
              "sentence number " + i + " about topic " + (i % 7),
              "another sentence " + i,
              i % 6));
    }
    return pairs;
  }

  @Test
  void footerGivesRowCountAndRowGroupsWithoutReadingData() throws Exception {
    Path file = dir.resolve("pairs.parquet");
    GoldenSubsetWriter.writePairs(new org.apache.hadoop.fs.Path(file.toUri()), pairs(500), 2048);
    GoldenSubsetFile footer = GoldenSubsetFile.readFooter(storage, file.toUri().toString());
    assertThat(footer.rowCount()).isEqualTo(500);
    assertThat(footer.rowGroupSizes()).hasSizeGreaterThan(1);
    footer.requireText("text_a", "text_a");
    footer.requireNumber("gold", "gold");
  }

  @Test
  void schemaChecksNameTheColumnAndWhatIsWrong() throws Exception {
    Path file = dir.resolve("pairs.parquet");
    GoldenSubsetWriter.writePairs(new org.apache.hadoop.fs.Path(file.toUri()), pairs(3), 1 << 20);
    GoldenSubsetFile footer = GoldenSubsetFile.readFooter(storage, file.toUri().toString());
    assertThatThrownBy(() -> footer.requireText("text_a", "sentence1"))
        .isInstanceOf(SubsetSchemaException.class)
        .hasMessageContaining("has no column 'sentence1' (text_a)")
        .hasMessageContaining("[id, text_a, text_b, gold]");
    assertThatThrownBy(() -> footer.requireText("text_b", "gold"))
        .hasMessageContaining(
            "column 'gold' (text_b) must be a UTF-8 string column, but is double");
    assertThatThrownBy(() -> footer.requireNumber("gold", "text_a"))
        .hasMessageContaining("column 'text_a' (gold) must be numeric");
  }

  @Test
  void missingAndNonParquetFilesAreNamed() throws Exception {
    assertThatThrownBy(
            () ->
                GoldenSubsetFile.readFooter(
                    storage, dir.resolve("none.parquet").toUri().toString()))
        .isInstanceOf(FileNotFoundException.class)
        .hasMessageContaining("none.parquet");
    Path text = Files.writeString(dir.resolve("notes.parquet"), "not parquet at all");
    assertThatThrownBy(() -> GoldenSubsetFile.readFooter(storage, text.toUri().toString()))
        .hasMessageContaining("notes.parquet");
  }

  @Test
  void digestsAreCheckedWhileStreaming() throws Exception {
    Path file = Files.writeString(dir.resolve("x.bin"), "abc");
    String uri = file.toUri().toString();
    assertThat(storage.sha256(uri))
        .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assertThatThrownBy(() -> storage.verify(uri, "0".repeat(64)))
        .isInstanceOf(DigestMismatchException.class)
        .hasMessageContaining("expected " + "0".repeat(64))
        .hasMessageContaining("ba7816bf");
  }
}
