package io.evalfleet.common.kafka;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The one place where dead letters are built: a record that could not be parsed or processed goes
 * to {@code evalfleet.dlq} with headers saying where it came from ({@link #ORIGINAL_TOPIC}, {@link
 * #ORIGINAL_PARTITION}, {@link #ORIGINAL_OFFSET}) and why it failed ({@link #ERROR_CLASS}, {@link
 * #ERROR_MESSAGE}), after the headers it already carried and before any a role adds of its own. The
 * worker and the notifier publish them with {@link #send}; the dispatcher forwards {@link
 * Builder#headers()} to its dead-letter sink inside its transaction.
 */
public final class DeadLetters {
  public static final String ORIGINAL_TOPIC = "evalfleet.original.topic";
  public static final String ORIGINAL_PARTITION = "evalfleet.original.partition";
  public static final String ORIGINAL_OFFSET = "evalfleet.original.offset";
  public static final String ERROR_CLASS = "evalfleet.error.class";
  public static final String ERROR_MESSAGE = "evalfleet.error.message";

  private DeadLetters() {}

  /** A dead letter for something read from {@code topic} that failed with {@code cause}. */
  public static Builder from(String topic, Exception cause) {
    return new Builder(topic, cause);
  }

  /**
   * The dead letter of a consumed record: its key, value and headers unchanged, and where it was
   * read.
   */
  public static ProducerRecord<String, byte[]> of(
      ConsumerRecord<String, byte[]> record, Exception cause) {
    return from(record.topic(), cause)
        .copying(record.headers())
        .at(record.partition(), record.offset())
        .record(record.key(), record.value());
  }

  /**
   * Publishes the dead letter and waits for the broker, so that it is not lost when the offset is
   * committed.
   */
  public static void send(
      Producer<String, byte[]> producer, ConsumerRecord<String, byte[]> record, Exception cause) {
    send(
        producer,
        of(record, cause),
        "a dead letter from " + record.topic() + "-" + record.partition() + "@" + record.offset());
  }

  /**
   * Publishes a dead letter built by {@link Builder#record} and waits for the broker; throws as
   * {@link KafkaClients#sendAndWait} does when it is not acknowledged.
   */
  public static void send(
      Producer<String, byte[]> producer, ProducerRecord<String, byte[]> deadLetter, String what) {
    KafkaClients.sendAndWait(producer, deadLetter, what);
  }

  /**
   * The headers (and the record) of one dead letter. Not thread-safe; build one per dead letter.
   */
  public static final class Builder {
    private final String topic;
    private final Exception cause;
    private Header[] original = new Header[0];
    private Integer partition;
    private Long offset;
    private final Map<String, String> extra = new LinkedHashMap<>();

    private Builder(String topic, Exception cause) {
      if (topic == null || cause == null) {
        throw new IllegalArgumentException(
            "a dead letter needs the topic it came from and its cause, got topic "
                + topic
                + " and cause "
                + cause);
      }
      this.topic = topic;
      this.cause = cause;
    }

    /**
     * Keeps the headers the record carried (none when {@code headers} is null), ahead of the dead
     * letter's own.
     */
    public Builder copying(Headers headers) {
      this.original = headers == null ? new Header[0] : headers.toArray();
      return this;
    }

    /**
     * Where in {@code topic} the record was read; left out for something that was never one record.
     */
    public Builder at(int partition, long offset) {
      this.partition = partition;
      this.offset = offset;
      return this;
    }

    /**
     * A header of the role's own (the notifier names the target it could not deliver to), after the
     * standard ones.
     */
    public Builder header(String key, String value) {
      extra.put(key, value);
      return this;
    }

    public Headers headers() {
      Headers headers = new RecordHeaders(original);
      headers.add(ORIGINAL_TOPIC, bytes(topic));
      if (partition != null) {
        headers.add(ORIGINAL_PARTITION, bytes(Integer.toString(partition)));
        headers.add(ORIGINAL_OFFSET, bytes(Long.toString(offset)));
      }
      headers.add(ERROR_CLASS, bytes(cause.getClass().getName()));
      headers.add(ERROR_MESSAGE, bytes(String.valueOf(cause.getMessage())));
      extra.forEach((key, value) -> headers.add(key, bytes(value)));
      return headers;
    }

    /** The record for {@code evalfleet.dlq}, with {@link #headers()}. */
    public ProducerRecord<String, byte[]> record(String key, byte[] value) {
      return new ProducerRecord<>(Topics.DLQ, null, key, value, headers());
    }
  }

  private static byte[] bytes(String value) {
    return value.getBytes(StandardCharsets.UTF_8);
  }
}
