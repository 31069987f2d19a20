package io.evalfleet.cli;

import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.archive.SubsetManifest;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.monitor.curation.SubsetBuilder;
import io.evalfleet.monitor.curation.SubsetDiff;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.hadoop.fs.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "subset",
    description = "Golden subsets built from traffic logs: build a version, compare two.",
    subcommands = {SubsetCommand.Build.class, SubsetCommand.Diff.class})
final class SubsetCommand {

  @Command(
      name = "build",
      header = "Builds a golden subset from traffic-log Parquet files, chosen by a seed.",
      description =
          "Builds a golden subset from traffic-log Parquet files (files or folders, any Hadoop file system): rows that pass --where, without repeats (exact, then normalised), sized to --size with every --stratify-by stratum keeping at least --min-per-stratum rows, chosen by the seed alone. Writes the subset and its manifest (<out>.manifest.json: the sha256 of the subset and of each source, seed, filter, strata, schema) and registers the version in the archive. The same sources, settings and seed give the same bytes.")
  static final class Build implements Callable<Integer> {
    @Mixin ConfigOptions config;

    @Option(
        names = "--name",
        required = true,
        description = "The subset's name, e.g. support-chat.")
    String name;

    @Option(names = "--version", required = true, description = "This version's name, e.g. v2.")
    String version;

    @Option(
        names = "--from",
        required = true,
        description = "A traffic-log Parquet file or folder; repeat for more.")
    List<String> sources;

    @Option(
        names = "--text-column",
        defaultValue = "text",
        description = "The column holding the text. Default: ${DEFAULT-VALUE}.")
    String textColumn;

    @Option(
        names = "--where",
        description = "column=value; every condition must hold. Repeat for more.")
    List<String> where;

    @Option(names = "--stratify-by", description = "The column whose values are strata.")
    String stratifyBy;

    @Option(
        names = "--min-per-stratum",
        defaultValue = "0",
        description = "Rows each stratum keeps at least. Default: ${DEFAULT-VALUE}.")
    int minPerStratum;

    @Option(names = "--size", required = true, description = "Rows to select.")
    int size;

    @Option(
        names = "--allow-smaller",
        description =
            "Write a smaller subset when fewer distinct rows than --size are left (otherwise nothing is written and the command exits 2).")
    boolean allowSmaller;

    @Option(
        names = "--seed",
        defaultValue = "7",
        description =
            "Orders the rows, with each one's normalised text: the same seed picks the same rows. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(
        names = "--out",
        required = true,
        description = "Where to write the subset (a Parquet file URI or path).")
    String out;

    @Override
    public Integer call() throws Exception {
      if (size < 1) {
        throw CommandFailure.badInput("--size must be at least 1 row, got " + size);
      }
      FleetConfig loaded = config.load();
      Storage storage = Storage.of(loaded);
      Path outPath = Storage.path(out);
      String output = outPath.getFileSystem(storage.conf()).makeQualified(outPath).toString();
      SubsetManifest manifest =
          new SubsetBuilder(storage)
              .build(
                  new SubsetBuilder.Settings(
                      name,
                      version,
                      sources,
                      textColumn,
                      where == null ? List.of() : where,
                      stratifyBy,
                      size,
                      minPerStratum,
                      seed,
                      output),
                  allowSmaller);
      byte[] json = Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(manifest);
      Path manifestPath = new Path(output + ".manifest.json");
      try (var stream = storage.create(manifestPath)) {
        stream.write(json);
      }
      String registered =
          new EvaluationArchive(storage, loaded.get(FleetConfig.ARCHIVE_ROOT))
              .writeSubsetManifest(manifest);
      if (manifest.output().rows() < size) {
        System.err.printf(
            "note: %d rows written, fewer than --size %d: only that many distinct rows are left%n",
            manifest.output().rows(), size);
      }
      System.out.printf(
          "subset %s %s: %d rows from %d rows read (%d after --where; %d exact and %d normalised"
              + " repeats dropped)%n",
          name,
          version,
          manifest.output().rows(),
          manifest.rowsRead(),
          manifest.rowsFiltered(),
          manifest.exactDuplicates(),
          manifest.normalizedDuplicates());
      manifest
          .strata()
          .forEach(
              (stratum, counts) ->
                  System.out.printf(
                      "  stratum %-20s %6d of %6d%n",
                      stratum.isEmpty() ? "(all)" : stratum,
                      counts.selected(),
                      counts.available()));
      System.out.println("  " + manifest.output().uri() + "  sha256 " + manifest.output().sha256());
      System.out.println("  manifest " + manifestPath + ", registered as " + registered);
      return 0;
    }
  }

  @Command(
      name = "diff",
      header = "Shows what changed between two registered versions of a subset.",
      description =
          "What changed between two registered versions of a subset: texts added and"
              + " removed (after normalisation), and each stratum's rows.")
  static final class Diff implements Callable<Integer> {
    @Mixin ConfigOptions config;

    @Option(names = "--name", required = true, description = "The subset's name.")
    String name;

    @Option(
        names = "--examples",
        defaultValue = "5",
        description = "Texts shown each way. Default: ${DEFAULT-VALUE}.")
    int examples;

    @Parameters(index = "0", description = "The older version.")
    String from;

    @Parameters(index = "1", description = "The newer version.")
    String to;

    @Override
    public Integer call() throws Exception {
      FleetConfig loaded = config.load();
      Storage storage = Storage.of(loaded);
      EvaluationArchive archive =
          new EvaluationArchive(storage, loaded.get(FleetConfig.ARCHIVE_ROOT));
      SubsetManifest older = archive.subsetManifest(name, from).orElse(null);
      SubsetManifest newer = archive.subsetManifest(name, to).orElse(null);
      if (older == null || newer == null) {
        throw CommandFailure.badInput(
            "subset "
                + name
                + " has no registered version "
                + (older == null ? from : to)
                + " in "
                + archive.root()
                + " (subset build registers one)");
      }
      System.out.print(SubsetDiff.of(storage, older, newer).render(examples));
      return 0;
    }
  }
}
