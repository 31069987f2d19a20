package io.evalfleet.laptop.embedded;

import io.evalfleet.common.kafka.TopicSetup;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * A real single-node Kafka broker in KRaft mode (combined broker and controller) running inside
 * this JVM, from the Kafka jars: no download, no Docker. Its data lives in a temporary directory
 * that is deleted on close.
 */
public final class EmbeddedKafka implements AutoCloseable {
  private final KafkaClusterTestKit cluster;
  private final Path dataDir;

  private EmbeddedKafka(KafkaClusterTestKit cluster, Path dataDir) {
    this.cluster = cluster;
    this.dataDir = dataDir;
  }

  /**
   * Starts the broker and creates the fleet's topics.
   *
   * <p>The client port is a free one chosen at start; {@link #bootstrapServers()} says which.
   *
   * @param jobPartitions partitions of the jobs topic
   */
  public static EmbeddedKafka start(int jobPartitions) throws Exception {
    // Our own directory, deleted by close(): the kit's default one is deleted by a JVM shutdown
    // hook
    // that runs alongside ours, so on Ctrl-C it vanished under a broker still writing to it.
    Path dataDir = Files.createTempDirectory("evalfleet-kafka-");
    TestKitNodes.Builder nodes =
        new TestKitNodes.Builder()
            .setBaseDirectory(dataDir)
            .setCombined(true)
            .setNumBrokerNodes(1)
            .setNumControllerNodes(1);
    KafkaClusterTestKit cluster =
        new KafkaClusterTestKit.Builder(nodes.build())
            .setConfigProp("auto.create.topics.enable", "false")
            .setConfigProp("offsets.topic.replication.factor", "1")
            .setConfigProp("transaction.state.log.replication.factor", "1")
            .setConfigProp("group.initial.rebalance.delay.ms", "0")
            .setConfigProp("log.cleaner.backoff.ms", "1000")
            .build();
    try {
      formatQuietly(cluster);
      cluster.startup();
      cluster.waitForReadyBrokers();
      try (Admin admin = cluster.admin()) {
        TopicSetup.ensure(admin, jobPartitions);
      }
      return new EmbeddedKafka(cluster, dataDir);
    } catch (Exception e) {
      cluster.close();
      deleteTree(dataDir);
      throw e;
    }
  }

  /**
   * Formats the storage; the formatter prints its bootstrap records to stdout, which is not for
   * users.
   */
  private static void formatQuietly(KafkaClusterTestKit cluster) throws Exception {
    PrintStream out = System.out;
    System.setOut(new PrintStream(OutputStream.nullOutputStream()));
    try {
      cluster.format();
    } finally {
      System.setOut(out);
    }
  }

  public String bootstrapServers() {
    return cluster.bootstrapServers();
  }

  public Admin admin() {
    return cluster.admin();
  }

  @Override
  public void close() throws Exception {
    try {
      cluster.close();
    } finally {
      deleteTree(dataDir);
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }
}
