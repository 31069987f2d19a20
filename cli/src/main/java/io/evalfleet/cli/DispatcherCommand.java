package io.evalfleet.cli;

import io.evalfleet.dispatcher.DispatcherRole;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "dispatcher", description = "Run the dispatcher against a Kafka cluster until stopped (SIGTERM or Ctrl-C).")
final class DispatcherCommand implements Callable<Integer> {
  @Mixin ConfigOptions config;

  @Override
  public Integer call() throws Exception {
    DispatcherRole role = new DispatcherRole(config.load(), Clock.systemUTC()).start();
    return Shutdown.awaitSignalOrDeath(role::alive, role::close) ? 0 : 1;
  }
}
