package io.evalfleet.cli;

import io.evalfleet.common.metrics.Observability;
import io.evalfleet.dispatcher.DispatcherRole;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "dispatcher", description = "Run the dispatcher against a Kafka cluster until stopped (SIGTERM or Ctrl-C).")
final class DispatcherCommand implements Callable<Integer> {
  @Mixin ConfigOptions config;

  @picocli.CommandLine.Option(names = "--print-topology",
      description = "Print the Kafka Streams topology (topics, processor, state stores) and exit.")
  boolean printTopology;

  @Override
  public Integer call() throws Exception {
    var loaded = config.load();
    if (printTopology) {
      System.out.print(DispatcherRole.describeTopology(loaded));
      return 0;
    }
    Observability observability = new Observability("dispatcher");
    DispatcherRole role = new DispatcherRole(loaded, Clock.systemUTC(), observability.registry()).start();
    Endpoints.serve(observability, loaded, role::alive);
    return Shutdown.awaitSignalOrDeath(role::alive, role::close, observability::close) ? 0 : 1;
  }
}
