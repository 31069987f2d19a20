package io.evalfleet.monitor.curation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.evalfleet.common.archive.SubsetManifest;
import io.evalfleet.common.failure.InputException;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetFile;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SubsetBuilderTest {
  static final MessageType LOG =
      Types.buildMessage()
          .required(PrimitiveTypeName.BINARY)
          .as(LogicalTypeAnnotation.stringType())
          .named("message")
          .required(PrimitiveTypeName.BINARY)
          .as(LogicalTypeAnnotation.stringType())
          .named("category")
          .required(PrimitiveTypeName.BINARY)
          .as(LogicalTypeAnnotation.stringType())
          .named("lang")
          .required(PrimitiveTypeName.INT64)
          .named("ts")
          .named("traffic");

  @TempDir static Path dir;
  static Storage storage = Storage.withDefaults();
  static String day1;
  static String day2;

  /**
   * A day of traffic: {@code billing} and {@code refund} questions, a rare {@code security} one,
   * some repeats.
   */
  static String writeDay(String name, int offset, int billing, int refund, int security)
      throws Exception {
    Path file = dir.resolve(name + ".parquet");
    SimpleGroupFactory groups = new SimpleGroupFactory(LOG);
    try (var writer =
        ExampleParquetWriter.builder(
                HadoopOutputFile.fromPath(
                    new org.apache.hadoop.fs.Path(file.toUri()), new Configuration()))
            .withType(LOG)
            .build()) {
      long ts = offset * 100_000L;
      for (int i = 0; i < billing; i++) {
        writer.write(
            groups
                .newGroup()
                .append("message", "Why was I charged twice for order " + (offset + i) + "?")
                .append("category", "billing")
                .append("lang", i % 10 == 0 ? "de" : "en")
                .append("ts", ts++));
      }
      for (int i = 0; i < refund; i++) {
        writer.write(
            groups
                .newGroup()
                .append("message", "Please refund my purchase number " + (offset + i))
                .append("category", "refund")
                .append("lang", "en")
                .append("ts", ts++));
      }
      for (int i = 0; i < security; i++) {
        writer.write(
            groups
                .newGroup()
                .append("message", "Someone logged into account " + (offset + i) + " from abroad")
                .append("category", "security")
                .append("lang", "en")
                .append("ts", ts++));
      }
      // The same question again, byte for byte, and written differently.
      writer.write(
          groups
              .newGroup()
              .append("message", "Please refund my purchase number " + offset)
              .append("category", "refund")
              .append("lang", "en")
              .append("ts", ts++));
      writer.write(
          groups
              .newGroup()
              .append("message", "  please REFUND my purchase   number " + offset + "!!")
              .append("category", "refund")
              .append("lang", "en")
              .append("ts", ts++));
    }
    return file.toUri().toString();
  }

  @BeforeAll
  static void traffic() throws Exception {
    day1 = writeDay("day-1", 0, 500, 300, 5);
    day2 = writeDay("day-2", 10_000, 200, 200, 3);
  }

  static SubsetBuilder.Settings settings(String out, long seed, List<String> sources) {
    return new SubsetBuilder.Settings(
        "support",
        "v1",
        sources,
        "message",
        List.of("lang=en"),
        "category",
        100,
        10,
        seed,
        dir.resolve(out).toUri().toString());
  }

  @Test
  void theSameSourcesAndSeedGiveTheSameBytesAndAnotherSeedOtherRows() throws Exception {
    SubsetBuilder builder = new SubsetBuilder(storage);
    SubsetManifest first = builder.build(settings("a.parquet", 7, List.of(day1)));
    SubsetManifest again = builder.build(settings("b.parquet", 7, List.of(day1)));
    SubsetManifest reseeded = builder.build(settings("c.parquet", 8, List.of(day1)));
    assertThat(again.output().sha256()).isEqualTo(first.output().sha256());
    assertThat(reseeded.output().sha256()).isNotEqualTo(first.output().sha256());
    assertThat(first.sources())
        .singleElement()
        .satisfies(
            source -> {
              assertThat(source.sha256()).isEqualTo(storage.sha256(day1));
              assertThat(source.rows()).isEqualTo(807);
            });
  }

  @Test
  void aBuiltSubsetIsCutIntoRowGroupsOfAThousandRowsSoThatAJobReadsItsOwnShare() throws Exception {
    SubsetBuilder.Settings base = settings("groups.parquet", 7, List.of(day1, day2));
    SubsetManifest built =
        new SubsetBuilder(storage)
            .build(
                new SubsetBuilder.Settings(
                    base.name(),
                    base.version(),
                    base.sources(),
                    base.textColumn(),
                    List.of(),
                    null,
                    1_100,
                    0,
                    base.seed(),
                    base.output()));
    List<Long> groups = GoldenSubsetFile.readFooter(storage, built.output().uri()).rowGroupSizes();
    assertThat(groups).containsExactly((long) SubsetBuilder.ROW_GROUP_ROWS, 100L);
  }

  @Test
  void rareStrataKeepTheirQuotaAndTheRestIsSharedInProportion() throws Exception {
    SubsetManifest manifest =
        new SubsetBuilder(storage).build(settings("strata.parquet", 7, List.of(day1)));
    // After the filter (50 German billing rows dropped) and deduplication: billing 450, refund 300,
    // security 5.
    // Quotas 10, 10 and all 5; the 75 left shared 440 : 290 → 45.2 and 29.8 → 45 and 30 (largest
    // remainder).
    assertThat(manifest.strata())
        .containsEntry("billing", new SubsetManifest.Stratum(450, 55))
        .containsEntry("refund", new SubsetManifest.Stratum(300, 40))
        .containsEntry("security", new SubsetManifest.Stratum(5, 5));
    assertThat(manifest.output().rows()).isEqualTo(100);
    assertThat(manifest.rowsFiltered()).isEqualTo(757);
    assertThat(manifest.exactDuplicates()).isEqualTo(1);
    assertThat(manifest.normalizedDuplicates()).isEqualTo(1);
    assertThat(manifest.schema()).containsOnlyKeys("id", "message", "category");
  }

  @Test
  void quotasHaveKnownAnswers() throws Exception {
    // base: 5 + 5 + 2 = 12; 28 left, shared 95 : 45 : 0 → 19 and 9.
    assertThat(SubsetBuilder.quotas(new TreeMap<>(Map.of("a", 100, "b", 50, "c", 2)), 40, 5))
        .containsExactlyEntriesOf(new TreeMap<>(Map.of("a", 24, "b", 14, "c", 2)));
    // Fewer rows than the target: every row.
    assertThat(SubsetBuilder.quotas(new TreeMap<>(Map.of("a", 3, "b", 4)), 40, 5))
        .containsExactlyEntriesOf(new TreeMap<>(Map.of("a", 3, "b", 4)));
    // Largest remainders: 10 left over 3 equal strata gives 4, 3, 3 (ties by name).
    assertThat(SubsetBuilder.quotas(new TreeMap<>(Map.of("x", 30, "y", 30, "z", 30)), 10, 0))
        .containsExactlyEntriesOf(new TreeMap<>(Map.of("x", 4, "y", 3, "z", 3)));
    assertThatThrownBy(() -> SubsetBuilder.quotas(new TreeMap<>(Map.of("a", 100, "b", 50)), 15, 10))
        .isInstanceOf(InputException.class)
        .hasMessageContaining("2 strata need 20 rows to keep their quota of 10");
  }

  @Test
  void aSizeBeyondTheDistinctRowsIsRefusedSayingHowManyThereAreUnlessASmallerSubsetIsFine()
      throws Exception {
    // day-1 in English: 450 billing + 300 refund + 5 security questions, and two repeats.
    var asked =
        new SubsetBuilder.Settings(
            "support",
            "v1",
            List.of(day1),
            "message",
            List.of("lang=en"),
            "category",
            100_000,
            0,
            7,
            dir.resolve("too-big.parquet").toUri().toString());
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> new SubsetBuilder(storage).build(asked, false))
        .isInstanceOf(io.evalfleet.common.failure.InputException.class)
        .hasMessageContaining(
            "a subset of 100000 rows was asked for, but only 755 distinct rows are left")
        .hasMessageContaining("ask for at most 755 rows");
    assertThat(java.nio.file.Files.exists(dir.resolve("too-big.parquet")))
        .as("nothing written")
        .isFalse();
    assertThat(new SubsetBuilder(storage).build(asked, true).output().rows()).isEqualTo(755);
  }

  @Test
  void aMissingColumnIsNamedWithItsFile() {
    SubsetBuilder.Settings wrong =
        new SubsetBuilder.Settings(
            "support",
            "v1",
            List.of(day1),
            "text",
            List.of(),
            null,
            100,
            0,
            7,
            dir.resolve("wrong.parquet").toUri().toString());
    assertThatThrownBy(() -> new SubsetBuilder(storage).build(wrong))
        .isInstanceOf(InputException.class)
        .hasMessageContaining("traffic log " + "file:" + dir.resolve("day-1.parquet"))
        .hasMessageContaining(
            "has no column 'text'; its columns are [message, category, lang, ts]");
  }

  @Test
  void aDiffNamesWhatTheNewDayBroughtIn() throws Exception {
    SubsetBuilder builder = new SubsetBuilder(storage);
    SubsetManifest v1 = builder.build(settings("v1.parquet", 7, List.of(day1)));
    SubsetManifest v2 =
        builder.build(
            new SubsetBuilder.Settings(
                "support",
                "v2",
                List.of(day1, day2),
                "message",
                List.of("lang=en"),
                "category",
                100,
                10,
                7,
                dir.resolve("v2.parquet").toUri().toString()));
    SubsetDiff diff = SubsetDiff.of(storage, v1, v2);
    assertThat(diff.added()).isNotEmpty();
    assertThat(diff.kept() + diff.added().size()).isEqualTo(v2.output().rows());
    assertThat(diff.kept() + diff.removed().size()).isEqualTo(v1.output().rows());
    assertThat(diff.sameSources()).isFalse();
    assertThat(diff.sameSettings()).isTrue();
    assertThat(diff.strata().get("security")).containsExactly(5, 8);
    assertThat(diff.render(2)).startsWith("subset support v1 → v2: ");
  }

  @Test
  void leavesNoHadoopChecksumFilesBesideItsOutputOrItsManifest() throws Exception {
    Path folder = java.nio.file.Files.createDirectories(dir.resolve("no-crc"));
    String out = folder.resolve("subset.parquet").toUri().toString();
    // an earlier write through Hadoop's checksummed local file system left subset.parquet and
    // .subset.parquet.crc
    var local = org.apache.hadoop.fs.FileSystem.getLocal(new Configuration());
    try (var stream = local.create(new org.apache.hadoop.fs.Path(out), true)) {
      stream.write("an older file".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    assertThat(folder.resolve(".subset.parquet.crc")).exists();

    SubsetManifest manifest =
        new SubsetBuilder(storage)
            .build(
                new SubsetBuilder.Settings(
                    "support",
                    "v1",
                    List.of(day1),
                    "message",
                    List.of("lang=en"),
                    "category",
                    100,
                    10,
                    7,
                    out));
    new io.evalfleet.common.archive.EvaluationArchive(
            storage, folder.resolve("archive").toUri().toString())
        .writeSubsetManifest(manifest);

    try (var files = java.nio.file.Files.walk(folder)) {
      assertThat(
              files
                  .filter(java.nio.file.Files::isRegularFile)
                  .map(p -> folder.relativize(p).toString())
                  .sorted())
          .containsExactly("archive/subsets/support/v1.manifest.json", "subset.parquet");
    }
    assertThat(manifest.output().sha256()).isEqualTo(storage.sha256(out));
    assertThat(manifest.output().rows()).isEqualTo(100);
  }

  /**
   * The rule docs/golden-subsets.md gives to reproduce the order elsewhere, computed there with
   * Python's hashlib.
   */
  @Test
  void aRowsKeyIsTheSha256OfTheSeedAsEightBigEndianBytesThenTheNormalisedText() {
    assertThat(SubsetBuilder.key(7, TextNormalizer.normalize("  Reset my   PASSWORD!! ")))
        .isEqualTo("9d8794c0a19d29beb20e83da6ebbe25cf8930aadd02e1f23eede79a092f671aa");
    assertThat(SubsetBuilder.key(-1, "café"))
        .isEqualTo("abb0fecb3625cb477e3d6dcc1e22168519acbbe19004d799484d1cf8857eb073");
  }
}
