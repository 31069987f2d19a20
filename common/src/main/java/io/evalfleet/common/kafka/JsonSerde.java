package io.evalfleet.common.kafka;

import io.evalfleet.common.contract.Json;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The serde of one record type in the wire format's JSON ({@link Json}): define one per contract,
 * next to the record, and use it everywhere that record is stored or sent. Null stays null (a
 * tombstone); bytes that do not read as the type throw the {@link
 * io.evalfleet.common.contract.ContractViolation} that names the field.
 */
public final class JsonSerde {
  private JsonSerde() {}

  public static <T> Serde<T> of(Class<T> type) {
    Serializer<T> serializer = (topic, value) -> value == null ? null : Json.write(value);
    Deserializer<T> deserializer = (topic, bytes) -> bytes == null ? null : Json.read(bytes, type);
    return Serdes.serdeFrom(serializer, deserializer);
  }
}
