package io.evalfleet.common.kafka.consume;

import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * What a role does with one record of a {@link CommitSafeLoop}. Called on the loop's executor; it
 * may finish the record later, on another thread, through {@code delivery}. A handler that throws
 * has its record consumed again.
 */
@FunctionalInterface
public interface RecordHandler<K, V> {
  void handle(ConsumerRecord<K, V> record, Delivery delivery);
}
