package io.evalfleet.dispatcher.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;

class ModelPartitionTest {
  @Test
  void aModelsPartitionIsTheJavaProducersForItsKey() {
    for (int partitions : new int[] {1, 3, 7, 12}) {
      for (int i = 0; i < 500; i++) {
        String model = "model-" + i + (i % 3 == 0 ? "-ünïcode" : "");
        assertThat(ModelPartition.of(model, partitions))
            .as(model)
            .isEqualTo(
                BuiltInPartitioner.partitionForKey(
                    model.getBytes(StandardCharsets.UTF_8), partitions));
      }
    }
  }

  @Test
  void librdkafkasDefaultPartitionerSendsMostNamesElsewhere() {
    // Why the dispatcher repartitions: CRC32 (kcat, confluent-kafka) and murmur2 disagree for most
    // names.
    int differ = 0;
    for (int i = 0; i < 300; i++) {
      byte[] key = ("model-" + i).getBytes(StandardCharsets.UTF_8);
      java.util.zip.CRC32 crc = new java.util.zip.CRC32();
      crc.update(key);
      if ((int) (crc.getValue() % 3) != ModelPartition.of("model-" + i, 3)) {
        differ++;
      }
    }
    assertThat(differ).isBetween(150, 250);
    assertThat(
            Utils.toPositive(Utils.murmur2("all-minilm-l6-v2".getBytes(StandardCharsets.UTF_8)))
                % 3)
        .isEqualTo(ModelPartition.of("all-minilm-l6-v2", 3));
  }
}
