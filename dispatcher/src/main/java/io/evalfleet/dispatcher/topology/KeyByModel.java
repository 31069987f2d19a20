package io.evalfleet.dispatcher.topology;

import com.fasterxml.jackson.databind.JsonNode;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.StagedWeightEvent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * Keys a record by the model its JSON value names ({@code model}), before the repartition that
 * brings it to the task owning the model, and stamps where it was read ({@link Origin}) so that a
 * dead letter or an event id derived from its position names the topic a user wrote to. A value
 * that names no model (not JSON, no {@code model}, a tombstone) keeps its key, or the empty key:
 * the task that receives it rejects it as it would anywhere.
 */
final class KeyByModel implements Processor<String, byte[], String, byte[]> {
  private ProcessorContext<String, byte[]> context;

  @Override
  public void init(ProcessorContext<String, byte[]> context) {
    this.context = context;
  }

  @Override
  public void process(Record<String, byte[]> record) {
    String key = modelOf(record.value()).orElse(record.key() == null ? "" : record.key());
    Headers headers = new RecordHeaders(record.headers().toArray());
    context.recordMetadata().ifPresent(source -> Origin.stamp(headers, source));
    context.forward(record.withKey(key).withHeaders(headers));
    // The staged event reaches its model's task through the repartition topic once this
    // transaction commits: at the end of this pass, not at the next commit interval.
    context.commit();
  }

  static Optional<String> modelOf(byte[] value) {
    if (value == null || value.length > StagedWeightEvent.MAX_BYTES) {
      return Optional.empty();
    }
    try {
      JsonNode model = Json.mapper().readTree(value).path("model");
      return model.isTextual() && !model.asText().isBlank()
          ? Optional.of(model.asText())
          : Optional.empty();
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /**
   * Where a repartitioned record was first read: the topic, partition and offset a producer wrote
   * it to.
   */
  record Origin(String topic, int partition, long offset) implements RecordMetadata {
    static final String TOPIC = "evalfleet.origin.topic";
    static final String PARTITION = "evalfleet.origin.partition";
    static final String OFFSET = "evalfleet.origin.offset";

    static void stamp(Headers headers, RecordMetadata source) {
      headers.remove(TOPIC).remove(PARTITION).remove(OFFSET);
      headers.add(TOPIC, bytes(source.topic()));
      headers.add(PARTITION, bytes(Integer.toString(source.partition())));
      headers.add(OFFSET, bytes(Long.toString(source.offset())));
    }

    /** The origin stamped on a record, removed from its headers; {@code read} when none is. */
    static RecordMetadata of(Headers headers, RecordMetadata read) {
      Header topic = headers.lastHeader(TOPIC);
      Header partition = headers.lastHeader(PARTITION);
      Header offset = headers.lastHeader(OFFSET);
      headers.remove(TOPIC).remove(PARTITION).remove(OFFSET);
      if (topic == null || partition == null || offset == null) {
        return read;
      }
      try {
        return new Origin(
            text(topic), Integer.parseInt(text(partition)), Long.parseLong(text(offset)));
      } catch (NumberFormatException e) {
        return read;
      }
    }

    private static byte[] bytes(String value) {
      return value.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(Header header) {
      return new String(header.value(), StandardCharsets.UTF_8);
    }
  }
}
