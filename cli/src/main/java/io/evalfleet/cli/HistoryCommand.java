package io.evalfleet.cli;

import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.archive.EvaluationLock;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.notifier.report.HistoryTable;
import io.evalfleet.notifier.report.HtmlReport;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "history",
    header = "Lists every archived evaluation of a model, with its metrics and band.",
    description =
        "Every archived evaluation of a model, oldest first: version, commit, flag, and each metric with its change against its baseline, interval and production band; --html also draws them.")
final class HistoryCommand implements Callable<Integer> {
  static final String PAGE = "history.html";

  @Mixin ConfigOptions config;

  @Option(names = "--model", required = true, description = "The model's name.")
  String model;

  @Option(
      names = "--html",
      description =
          "Also write the history as an HTML page with a chart per metric into the archive.")
  boolean html;

  @Option(names = "--open", description = "With --html: open the page in the desktop's browser.")
  boolean open;

  @Override
  public Integer call() throws Exception {
    FleetConfig loaded = config.load();
    Storage storage = Storage.of(loaded);
    EvaluationArchive archive =
        new EvaluationArchive(storage, loaded.get(FleetConfig.ARCHIVE_ROOT));
    List<EvaluationLock> locks = archive.locks(model);
    if (locks.isEmpty()) {
      throw CommandFailure.badInput(
          "no evaluation of "
              + model
              + " is archived in "
              + archive.root()
              + " (is archive.root the fleet's?)");
    }
    System.out.print(HistoryTable.render(model, locks));
    if (html) {
      String uri =
          archive.writeModelPage(
              model,
              PAGE,
              HtmlReport.renderHistory(model, locks, Instant.now())
                  .getBytes(StandardCharsets.UTF_8));
      System.out.println(uri);
      if (open) {
        Browser.open(storage, uri);
      }
    }
    return ExitCode.OK;
  }
}
