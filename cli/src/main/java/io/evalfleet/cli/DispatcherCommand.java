package io.evalfleet.cli;

import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.failure.FailureKind;
import io.evalfleet.common.failure.Failures;
import io.evalfleet.common.kafka.acl.FleetRole;
import io.evalfleet.common.kafka.acl.KafkaDenial;
import io.evalfleet.common.metrics.Observability;
import io.evalfleet.dispatcher.DispatcherRole;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.streams.errors.StreamsException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(
    name = "dispatcher",
    description = "Run the dispatcher against a Kafka cluster until stopped (SIGTERM or Ctrl-C).")
final class DispatcherCommand implements Callable<Integer> {
  @Mixin ConfigOptions config;

  @picocli.CommandLine.Option(
      names = "--print-topology",
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
    DispatcherRole role;
    try {
      role = new DispatcherRole(loaded, Clock.systemUTC(), observability.registry()).start();
    } catch (StreamsException e) {
      observability.close();
      // Kafka Streams: "Unable to initialize state, this can happen if multiple instances of Kafka
      // Streams are running in the same state directory", or "Failed to lock the state directory".
      if (String.valueOf(e.getMessage()).contains("state directory")) {
        throw CommandFailure.badInput(
            "another dispatcher on this machine holds the state directory "
                + loaded.get(FleetConfig.DISPATCHER_STATE_DIR)
                + ": give each instance its own (-D dispatcher.state-dir=...)");
      }
      throw e;
    } catch (IllegalStateException e) {
      observability.close();
      Optional<KafkaDenial> denial = KafkaDenial.of(e);
      if (denial.isPresent()) {
        throw CommandFailure.badInput(
            "cannot start: " + denial.get().message(null, FleetRole.DISPATCHER));
      }
      // The topics are missing or differ in partitions, or the broker does not answer: the message
      // says which.
      boolean missing = false;
      for (Throwable t = e; t != null; t = t.getCause()) {
        missing |= t instanceof UnknownTopicOrPartitionException;
      }
      throw missing || Failures.kindOf(e) != FailureKind.UNAVAILABLE
          ? CommandFailure.badInput(e.getMessage())
          : CommandFailure.unavailable(e.getMessage());
    }
    Endpoints.serve(observability, loaded, role::alive);
    return Shutdown.awaitSignalOrDeath(role::alive, role::close, observability::close) ? 0 : 1;
  }
}
