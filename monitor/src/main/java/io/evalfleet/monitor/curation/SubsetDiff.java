package io.evalfleet.monitor.curation;

import io.evalfleet.common.archive.SubsetManifest;
import io.evalfleet.common.storage.Storage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;

/**
 * What changed between two versions of a built subset: texts added and removed (compared after
 * normalisation), and each stratum's rows before and after, from the versions' manifests and files.
 *
 * @param added texts in the newer version only, in its row order
 * @param removed texts in the older version only, in its row order
 * @param strata per stratum: {rows before, rows after}
 */
public record SubsetDiff(
    String name,
    String from,
    String to,
    long kept,
    List<String> added,
    List<String> removed,
    Map<String, long[]> strata,
    boolean sameSources,
    boolean sameSettings) {

  public static SubsetDiff of(Storage storage, SubsetManifest older, SubsetManifest newer)
      throws IOException {
    Map<String, String> before = texts(storage, older);
    Map<String, String> after = texts(storage, newer);
    List<String> added = new ArrayList<>();
    after.forEach(
        (normalized, text) -> {
          if (!before.containsKey(normalized)) {
            added.add(text);
          }
        });
    List<String> removed = new ArrayList<>();
    before.forEach(
        (normalized, text) -> {
          if (!after.containsKey(normalized)) {
            removed.add(text);
          }
        });
    Map<String, long[]> strata = new TreeMap<>();
    Set<String> names = new TreeSet<>(older.strata().keySet());
    names.addAll(newer.strata().keySet());
    for (String stratum : names) {
      SubsetManifest.Stratum a = older.strata().get(stratum);
      SubsetManifest.Stratum b = newer.strata().get(stratum);
      strata.put(stratum, new long[] {a == null ? 0 : a.selected(), b == null ? 0 : b.selected()});
    }
    boolean sameSources =
        older.sources().stream()
            .map(SubsetManifest.Source::sha256)
            .toList()
            .equals(newer.sources().stream().map(SubsetManifest.Source::sha256).toList());
    boolean sameSettings =
        older.seed() == newer.seed()
            && older.targetRows() == newer.targetRows()
            && older.minPerStratum() == newer.minPerStratum()
            && older.filter().equals(newer.filter())
            && Objects.equals(older.stratifyBy(), newer.stratifyBy());
    return new SubsetDiff(
        newer.name(),
        older.version(),
        newer.version(),
        after.size() - added.size(),
        added,
        removed,
        strata,
        sameSources,
        sameSettings);
  }

  /** The subset's texts by normalised form, in row order. */
  private static Map<String, String> texts(Storage storage, SubsetManifest manifest)
      throws IOException {
    Map<String, String> texts = new LinkedHashMap<>();
    String uri = manifest.output().uri();
    storage.verify(uri, manifest.output().sha256());
    try (ParquetReader<Group> reader =
        ParquetReader.builder(new GroupReadSupport(), new Path(uri))
            .withConf(storage.conf())
            .build()) {
      Group group;
      while ((group = reader.read()) != null) {
        String text = group.getString(manifest.textColumn(), 0);
        texts.putIfAbsent(TextNormalizer.normalize(text), text);
      }
    }
    return texts;
  }

  /** The diff for people: counts, strata, and the first few texts each way. */
  public String render(int examples) {
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            Locale.ROOT,
            "subset %s %s → %s: %d kept, %d added, %d removed%n",
            name,
            from,
            to,
            kept,
            added.size(),
            removed.size()));
    out.append(sameSources ? "same sources" : "other sources")
        .append(", ")
        .append(sameSettings ? "same settings and seed" : "other settings or seed")
        .append(System.lineSeparator());
    strata.forEach(
        (stratum, counts) ->
            out.append(
                String.format(
                    Locale.ROOT,
                    "  stratum %-20s %6d → %6d%n",
                    stratum.isEmpty() ? "(all)" : stratum,
                    counts[0],
                    counts[1])));
    added.stream()
        .limit(examples)
        .forEach(text -> out.append("  + ").append(text).append(System.lineSeparator()));
    removed.stream()
        .limit(examples)
        .forEach(text -> out.append("  - ").append(text).append(System.lineSeparator()));
    return out.toString();
  }
}
