package io.evalfleet.laptop.faults;

import static org.awaitility.Awaitility.await;

import io.evalfleet.common.kafka.TopicSetup;
import java.io.IOException;
import java.io.Writer;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;

/**
 * A single-node Kafka broker in KRaft mode (combined broker and controller) in its own process, on
 * a fixed port with its data in a directory that outlives the process, so that it can be killed and
 * restarted as a real broker would be.
 */
final class BrokerProcess implements AutoCloseable {
  private final int port;
  private final FleetProcess process;

  private BrokerProcess(int port, FleetProcess process) {
    this.port = port;
    this.process = process;
  }

  /**
   * Formats a fresh data directory under {@code dir}, starts the broker and creates the fleet's
   * topics.
   */
  static BrokerProcess start(Path dir, int jobPartitions) throws Exception {
    BrokerProcess broker = startWithoutTopics(dir);
    try (Admin admin = broker.admin()) {
      TopicSetup.ensure(admin, jobPartitions);
    }
    return broker;
  }

  /**
   * Formats a fresh data directory under {@code dir} and starts the broker, with no topic (it
   * creates none itself).
   */
  static BrokerProcess startWithoutTopics(Path dir) throws Exception {
    int port = freePort();
    int controllerPort = freePort();
    Path config = dir.resolve("broker.properties");
    Properties props = new Properties();
    props.putAll(
        Map.ofEntries(
            Map.entry("process.roles", "broker,controller"),
            Map.entry("node.id", "1"),
            Map.entry("controller.quorum.voters", "1@127.0.0.1:" + controllerPort),
            Map.entry(
                "listeners",
                "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort),
            Map.entry("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port),
            Map.entry("controller.listener.names", "CONTROLLER"),
            Map.entry("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"),
            Map.entry("inter.broker.listener.name", "PLAINTEXT"),
            Map.entry("log.dirs", dir.resolve("data").toString()),
            Map.entry("offsets.topic.replication.factor", "1"),
            Map.entry("transaction.state.log.replication.factor", "1"),
            Map.entry("transaction.state.log.min.isr", "1"),
            Map.entry("group.initial.rebalance.delay.ms", "0"),
            Map.entry("auto.create.topics.enable", "false")));
    try (Writer out = Files.newBufferedWriter(config)) {
      props.store(out, "single-node KRaft broker for fault tests");
    }
    List<String> jvm = List.of("-Xmx512m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
    FleetProcess format =
        FleetProcess.laptop(
            "broker-format",
            dir,
            jvm,
            "kafka.tools.StorageTool",
            List.of("format", "-t", Uuid.randomUuid().toString(), "-c", config.toString()));
    format.start();
    format.awaitExit(Duration.ofSeconds(60));
    BrokerProcess broker =
        new BrokerProcess(
            port,
            FleetProcess.laptop("broker", dir, jvm, "kafka.Kafka", List.of(config.toString())));
    broker.restart();
    return broker;
  }

  /** Starts the broker process (again) on the same port and data, and waits until it serves. */
  void restart() throws Exception {
    process.start();
    await("the broker answers")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .failFast("the broker process exited:\n" + process.tail(), () -> !process.alive())
        .ignoreExceptionsInstanceOf(java.util.concurrent.ExecutionException.class)
        .ignoreExceptionsInstanceOf(java.util.concurrent.TimeoutException.class)
        .until(
            () -> {
              try (Admin admin = admin()) {
                return !admin
                    .describeCluster()
                    .nodes()
                    .get(5, java.util.concurrent.TimeUnit.SECONDS)
                    .isEmpty();
              }
            });
  }

  void kill() throws InterruptedException {
    process.kill();
  }

  int stop() throws InterruptedException {
    return process.stop(Duration.ofSeconds(60));
  }

  String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  Admin admin() {
    return Admin.create(
        Map.of(
            AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrapServers(),
            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
            10_000,
            AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG,
            5_000));
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  @Override
  public void close() throws InterruptedException {
    process.close();
  }
}
