package io.evalfleet.cli;

import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.kafka.acl.FleetRole;
import io.evalfleet.common.kafka.acl.KafkaDenial;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.acl.AclOperation;

/** Publishes staged-weight events, keyed by model name, as a training pipeline would. */
public final class Submitter implements AutoCloseable {
  private final KafkaProducer<String, byte[]> producer;

  public Submitter(FleetConfig config) {
    producer = KafkaClients.producer(config, "evalfleet-submit");
  }

  public void submit(StagedWeightEvent event) throws ExecutionException, InterruptedException {
    submitRaw(event.model(), Json.write(event));
  }

  /**
   * Publishes bytes as they are (for events written by hand or by another tool); says where they
   * landed.
   */
  public RecordMetadata submitRaw(String key, byte[] value)
      throws ExecutionException, InterruptedException {
    try {
      return producer.send(new ProducerRecord<>(Topics.STAGED, key, value)).get();
    } catch (ExecutionException | KafkaException e) {
      Optional<KafkaDenial> denial = KafkaDenial.of(e);
      if (denial.isPresent()) {
        throw CommandFailure.badInput(
            "cannot write the event to "
                + Topics.STAGED
                + ": "
                + denial.get().message(AclOperation.WRITE, FleetRole.SUBMITTER));
      }
      throw e;
    }
  }

  @Override
  public void close() {
    producer.close();
  }
}
