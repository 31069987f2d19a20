package io.evalfleet.dispatcher.topology;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.utils.Utils;

/**
 * The partition a model's records have on the model-keyed topics the dispatcher reads: the Java
 * client's partitioner (murmur2 of the UTF-8 key), which workers use for results and Kafka Streams
 * for the repartition topics.
 */
final class ModelPartition {
  private ModelPartition() {}

  static int of(String model, int partitions) {
    return Utils.toPositive(Utils.murmur2(model.getBytes(StandardCharsets.UTF_8))) % partitions;
  }
}
