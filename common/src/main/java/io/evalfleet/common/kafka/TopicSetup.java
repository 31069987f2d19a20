package io.evalfleet.common.kafka;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Creates the fleet's topics where they are missing (existing topics are left as they are). The
 * jobs topic has the most partitions: its partition count caps how many workers share the work.
 */
public final class TopicSetup {
  private TopicSetup() {}

  public static int defaultPartitions(String topic) {
    return switch (topic) {
      case Topics.JOBS -> 12;
      // Keyed by model and co-partitioned: the dispatcher needs them equal.
      case Topics.RESULTS, Topics.STAGED, Topics.BASELINES -> 3;
      case Topics.DRIFT_FLAGS, Topics.RUN_PROGRESS -> 3;
      default -> 1;
    };
  }

  public static void ensure(Admin admin, int jobPartitions) throws InterruptedException {
    try {
      Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
      List<NewTopic> missing = new ArrayList<>();
      for (String topic : Topics.ALL) {
        if (existing.contains(topic)) {
          continue;
        }
        int partitions = topic.equals(Topics.JOBS) ? jobPartitions : defaultPartitions(topic);
        NewTopic newTopic = new NewTopic(topic, Optional.of(partitions), Optional.empty());
        if (Topics.isCompacted(topic)) {
          newTopic.configs(
              Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
        } else if (topic.equals(Topics.RUN_PROGRESS)) {
          // Progress is only worth watching while a run lasts.
          newTopic.configs(
              Map.of(TopicConfig.RETENTION_MS_CONFIG, String.valueOf(TimeUnit.HOURS.toMillis(6))));
        }
        missing.add(newTopic);
      }
      if (missing.isEmpty()) {
        return;
      }
      try {
        admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw e;
        }
      }
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("cannot create the evalfleet topics: " + e.getMessage(), e);
    }
  }
}
