package io.evalfleet.cli;

import io.evalfleet.common.metrics.Observability;
import io.evalfleet.notifier.NotifierRole;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(
    name = "notifier",
    header =
        "Runs the notifier until stopped: reviews of flags to the archive, pull requests and webhooks.",
    description =
        "Run the notifier until stopped (SIGTERM or Ctrl-C): writes each flag's review (HTML report, comment) into the archive and delivers it to the webhook, GitHub and GitLab targets configured.")
final class NotifierCommand implements Callable<Integer> {
  @Mixin ConfigOptions config;

  @Override
  public Integer call() throws Exception {
    var loaded = config.load();
    Observability observability = new Observability("notifier");
    NotifierRole role = new NotifierRole(loaded, observability.registry()).start();
    Endpoints.serve(observability, loaded, role::alive);
    return Shutdown.awaitSignalOrDeath(role::alive, role::close, observability::close) ? 0 : 1;
  }
}
