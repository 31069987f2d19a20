package io.evalfleet.common.archive;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * How one version of a golden subset was built from traffic logs, kept in the archive beside the
 * fleet's other records ({@code subsets/<name>/<version>.manifest.json}) and written next to the
 * subset file itself. Everything that decides the subset's bytes is here, so the same sources,
 * settings and seed rebuild it bit for bit (the same {@code output.sha256}).
 *
 * @param sources every traffic-log file read, in the order read, with its digest and rows
 * @param filter the row filter, {@code column=value} conditions that must all hold; empty for none
 * @param stratifyBy the column whose values are strata, or null for none
 * @param minPerStratum rows each stratum keeps at least (all of it when it has fewer)
 * @param strata per stratum: rows available after filtering and deduplication, and rows selected
 * @param rowsRead rows in the sources; {@code rowsFiltered} of them passed the filter
 * @param exactDuplicates rows dropped as byte-for-byte repeats of an earlier text
 * @param normalizedDuplicates rows dropped as repeats after normalisation (case, width, whitespace,
 *     surrounding punctuation)
 * @param output the subset file written
 * @param schema its columns and their Parquet types
 */
public record SubsetManifest(
    int schemaVersion,
    String name,
    String version,
    List<Source> sources,
    String textColumn,
    List<String> filter,
    String stratifyBy,
    int targetRows,
    int minPerStratum,
    long seed,
    String builder,
    long rowsRead,
    long rowsFiltered,
    long exactDuplicates,
    long normalizedDuplicates,
    Map<String, Stratum> strata,
    Output output,
    Map<String, String> schema) {

  public static final int CURRENT = 1;

  /** A traffic-log file as read. */
  public record Source(String uri, String sha256, long rows) {}

  /** One stratum's rows: available after filtering and deduplication, and selected. */
  public record Stratum(long available, long selected) {}

  /** The subset file written. */
  public record Output(String uri, String sha256, long rows) {}

  public SubsetManifest {
    sources = List.copyOf(sources);
    filter = List.copyOf(filter);
    strata = Map.copyOf(new TreeMap<>(strata));
    schema = Map.copyOf(schema);
  }
}
