package io.evalfleet.laptop.embedded;

import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.dispatcher.DispatcherRole;
import io.evalfleet.notifier.NotifierRole;
import io.evalfleet.worker.WorkerRole;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.utils.Utils;

/**
 * A whole fleet in one process: an embedded KRaft broker, the dispatcher, {@code workers} workers
 * and, when asked for, the notifier, connected through the broker exactly as separate processes
 * would be. Closes in reverse order of start.
 */
public final class LocalFleet implements AutoCloseable {
  private final EmbeddedKafka kafka;
  private final FleetConfig config;
  private DispatcherRole dispatcher;
  private final MeterRegistry registry;
  private final List<WorkerRole> workers = new ArrayList<>();
  private Path cacheDir;
  private NotifierRole notifier;

  private LocalFleet(
      EmbeddedKafka kafka, FleetConfig config, DispatcherRole dispatcher, MeterRegistry registry) {
    this.kafka = kafka;
    this.config = config;
    this.dispatcher = dispatcher;
    this.registry = registry;
  }

  /**
   * @param base settings; the bootstrap servers are replaced by the embedded broker's
   */
  public static LocalFleet start(FleetConfig base, int workers, Path cacheDir) throws Exception {
    return start(base, workers, cacheDir, new SimpleMeterRegistry());
  }

  /**
   * @param registry where every role's meters go (workers' carry their {@code worker} tag)
   */
  public static LocalFleet start(
      FleetConfig base, int workers, Path cacheDir, MeterRegistry registry) throws Exception {
    return start(base, workers, cacheDir, registry, false);
  }

  /**
   * @param notifier whether to run the notifier too (reports into the archive, and the review
   *     targets the settings and environment name)
   */
  public static LocalFleet start(
      FleetConfig base, int workers, Path cacheDir, MeterRegistry registry, boolean notifier)
      throws Exception {
    EmbeddedKafka kafka = EmbeddedKafka.start(Math.max(6, workers * 2));
    try {
      // A fresh broker: the dispatcher's local state must start fresh too.
      // Beside the model cache, not in the OS temp directory (which may be cleaned under a running
      // broker).
      Path parent = cacheDir.toAbsolutePath().getParent();
      Files.createDirectories(parent);
      Path state = Files.createTempDirectory(parent, "dispatcher-state-");
      FleetConfig config =
          base.with(
              Map.of(
                  FleetConfig.BOOTSTRAP_SERVERS.key(),
                  kafka.bootstrapServers(),
                  FleetConfig.DISPATCHER_STATE_DIR.key(),
                  state.toString()));
      LocalFleet fleet =
          new LocalFleet(
              kafka,
              config,
              new DispatcherRole(config, Clock.systemUTC(), registry).start(),
              registry);
      fleet.cacheDir = cacheDir;
      for (int i = 1; i <= workers; i++) {
        fleet.startWorker();
      }
      if (notifier) {
        fleet.notifier = new NotifierRole(config, registry).start();
      }
      return fleet;
    } catch (Exception e) {
      kafka.close();
      throw e;
    }
  }

  /**
   * Starts one more worker, {@code worker-<n>}, sharing the fleet's model cache: a fleet started
   * with no worker holds its jobs on the topic until then.
   */
  public void startWorker() throws Exception {
    workers.add(
        new WorkerRole(config, "worker-" + (workers.size() + 1), cacheDir, registry).start());
  }

  /** Whether every role still runs. */
  public boolean alive() {
    return dispatcher.alive()
        && workers.stream().allMatch(WorkerRole::alive)
        && (notifier == null || notifier.alive());
  }

  /**
   * Stops the dispatcher and starts a new one on the same state directory, as a restarted process
   * would.
   */
  public void restartDispatcher() throws Exception {
    dispatcher.close(Duration.ofSeconds(10));
    dispatcher = new DispatcherRole(config, Clock.systemUTC(), registry).start();
  }

  /**
   * Stops the notifier and starts a new one; with {@code forgetOffsets}, its consumer group's
   * offsets are deleted first, so the new one reads every flag again (a redelivery of all of them).
   */
  public void restartNotifier(boolean forgetOffsets) throws Exception {
    if (notifier != null) {
      notifier.close(Duration.ofSeconds(10));
    }
    if (forgetOffsets) {
      try (var admin = Admin.create(KafkaClients.adminProperties(config))) {
        admin.deleteConsumerGroups(List.of(NotifierRole.GROUP)).all().get(30, TimeUnit.SECONDS);
      }
    }
    notifier = new NotifierRole(config, registry).start();
  }

  /** Settings for clients of this fleet (they point at the embedded broker). */
  public FleetConfig config() {
    return config;
  }

  public String bootstrapServers() {
    return kafka.bootstrapServers();
  }

  public EmbeddedKafka kafka() {
    return kafka;
  }

  @Override
  public void close() throws Exception {
    if (notifier != null) {
      notifier.close(Duration.ofSeconds(10));
    }
    for (WorkerRole worker : workers) {
      worker.close(Duration.ofSeconds(10));
    }
    dispatcher.close(Duration.ofSeconds(10));
    kafka.close();
    Utils.delete(Path.of(config.get(FleetConfig.DISPATCHER_STATE_DIR)).toFile());
  }
}
