package io.evalfleet.cli;

import io.evalfleet.common.kafka.TopicSetup;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "topics",
    description = "Create the evalfleet topics on a Kafka cluster where they are missing.")
final class TopicsCommand implements Callable<Integer> {
  @Mixin ConfigOptions config;

  @Option(
      names = "--job-partitions",
      defaultValue = "12",
      description =
          "Partitions of the jobs topic (caps the number of busy workers). Default: ${DEFAULT-VALUE}.")
  int jobPartitions;

  @Override
  public Integer call() throws Exception {
    try (Admin admin = Admin.create(config.load().kafkaClientProperties())) {
      TopicSetup.ensure(admin, jobPartitions);
      System.out.println("topics ready: " + String.join(", ", admin.listTopics().names().get()));
    }
    return 0;
  }
}
