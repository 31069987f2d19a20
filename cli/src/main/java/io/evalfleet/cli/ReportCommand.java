package io.evalfleet.cli;

import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.notifier.ReviewPublisher;
import io.evalfleet.notifier.review.Review;
import io.evalfleet.notifier.review.ReviewAssembler;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "report",
    header = "Writes the HTML report of an evaluated version and prints where it is.",
    description =
        "Write the HTML report (and the pull-request comment) of an evaluated version into the archive, from its flag or lockfile and the archive as it is now; print where it is.")
final class ReportCommand implements Callable<Integer> {
  @Mixin ConfigOptions config;

  @Option(names = "--model", required = true, description = "The model's name.")
  String model;

  @Option(names = "--version", required = true, description = "The evaluated version, as staged.")
  String version;

  @Option(names = "--open", description = "Open the report in the desktop's browser.")
  boolean open;

  @Option(names = "--markdown", description = "Also print the pull-request comment.")
  boolean markdown;

  @Override
  public Integer call() throws Exception {
    FleetConfig loaded = config.load();
    Storage storage = Storage.of(loaded);
    EvaluationArchive archive =
        new EvaluationArchive(storage, loaded.get(FleetConfig.ARCHIVE_ROOT));
    Review review =
        new ReviewPublisher(
                new ReviewAssembler(storage, archive),
                loaded.get(FleetConfig.REPORT_BASE_URL),
                Clock.systemUTC())
            .rebuild(model, version);
    if (markdown) {
      System.out.println(review.markdown());
    }
    if (review.reportUri() == null) {
      throw CommandFailure.unavailable(
          "the report could not be written to " + archive.root() + " (see the log)");
    }
    System.out.println(review.reportUri());
    if (open) {
      Browser.open(storage, review.reportUri());
    }
    return 0;
  }
}
