package io.evalfleet.common.kafka;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Copies a record that could not be parsed or processed to {@code evalfleet.dlq}, unchanged, with
 * headers saying where it came from and why it failed.
 */
public final class DeadLetters {
  public static final String ORIGINAL_TOPIC = "evalfleet.original.topic";
  public static final String ORIGINAL_PARTITION = "evalfleet.original.partition";
  public static final String ORIGINAL_OFFSET = "evalfleet.original.offset";
  public static final String ERROR_CLASS = "evalfleet.error.class";
  public static final String ERROR_MESSAGE = "evalfleet.error.message";

  private DeadLetters() {}

  /** Publishes the dead letter and waits for the broker, so that it is not lost when the offset is committed. */
  public static void send(Producer<String, byte[]> producer, ConsumerRecord<String, byte[]> record, Exception cause) {
    Headers headers = new RecordHeaders(record.headers().toArray());
    headers.add(ORIGINAL_TOPIC, bytes(record.topic()));
    headers.add(ORIGINAL_PARTITION, bytes(Integer.toString(record.partition())));
    headers.add(ORIGINAL_OFFSET, bytes(Long.toString(record.offset())));
    headers.add(ERROR_CLASS, bytes(cause.getClass().getName()));
    headers.add(ERROR_MESSAGE, bytes(String.valueOf(cause.getMessage())));
    KafkaClients.sendAndWait(producer, new ProducerRecord<>(Topics.DLQ, null, record.key(), record.value(), headers),
        "a dead letter from " + record.topic() + "-" + record.partition() + "@" + record.offset());
  }

  private static byte[] bytes(String value) {
    return value.getBytes(StandardCharsets.UTF_8);
  }
}
