package io.evalfleet.scoring.subset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.evalfleet.common.contract.RowOrder;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetFile;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SubsetReaderTest {
  @TempDir Path dir;
  String uri;
  final SubsetReader reader = new SubsetReader(Storage.withDefaults());

  @BeforeEach
  void writeSubset() throws IOException {
    List<GoldenSubsetWriter.Pair> pairs = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      pairs.add(new GoldenSubsetWriter.Pair(i, "a" + i, "b" + i, i / 100.0));
    }
    Path file = dir.resolve("s.parquet");
    GoldenSubsetWriter.writePairs(new org.apache.hadoop.fs.Path(file.toUri()), pairs, 1024);
    uri = file.toUri().toString();
  }

  List<Long> ids(long start, int count) throws IOException {
    List<Long> ids = new ArrayList<>();
    reader.read(
        uri,
        List.of("id", "text_b"),
        start,
        count,
        g -> {
          ids.add(g.getLong("id", 0));
          assertThat(g.getString("text_b", 0)).isEqualTo("b" + g.getLong("id", 0));
        });
    return ids;
  }

  @Test
  void readsExactlyTheRequestedRowsAcrossRowGroups() throws IOException {
    assertThat(GoldenSubsetFile.readFooter(Storage.withDefaults(), uri).rowGroupSizes())
        .hasSizeGreaterThan(2);
    for (long start : new long[] {0, 1, 37, 99, 150, 250}) {
      for (int count : new int[] {1, 13, 50}) {
        List<Long> expected = new ArrayList<>();
        for (long i = start; i < start + count; i++) {
          expected.add(i);
        }
        assertThat(ids(start, count)).as("rows %d+%d", start, count).isEqualTo(expected);
      }
    }
    assertThat(ids(0, 300)).hasSize(300);
  }

  @Test
  void readsTheRowsOfASeededOrderInThatOrder() throws IOException {
    RowOrder order = RowOrder.of(7, "c".repeat(64), 300);
    for (long from : new long[] {0, 45, 290}) {
      long[] rows = order.rows(from, 10);
      List<Long> ids = new ArrayList<>();
      reader.read(uri, List.of("id"), rows, g -> ids.add(g.getLong("id", 0)));
      assertThat(ids).containsExactlyElementsOf(Arrays.stream(rows).boxed().toList());
    }
    List<Long> repeated = new ArrayList<>();
    reader.read(
        uri, List.of("id"), new long[] {250, 3, 250}, g -> repeated.add(g.getLong("id", 0)));
    assertThat(repeated).containsExactly(250L, 3L, 250L);
  }

  @Test
  void aSeededRowPastTheEndIsNamed() {
    assertThatThrownBy(() -> reader.read(uri, List.of("id"), new long[] {5, 300}, g -> {}))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("has no row 300");
  }

  @Test
  void rowsPastTheEndAreAnError() {
    assertThatThrownBy(() -> ids(290, 20))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("has no rows 300..309");
  }

  @Test
  void aMissingColumnIsNamed() {
    assertThatThrownBy(() -> reader.read(uri, List.of("sentence1"), 0, 1, g -> {}))
        .hasMessageContaining("no column 'sentence1'");
  }
}
