package io.evalfleet.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

class DeadLettersTest {
  static List<String> headers(Headers headers) {
    return Arrays.stream(headers.toArray())
        .map(h -> h.key() + "=" + new String(h.value(), StandardCharsets.UTF_8))
        .toList();
  }

  @Test
  void aConsumedRecordKeepsItsKeyValueAndHeadersAndSaysWhereItWasReadAndWhy() {
    var record = new ConsumerRecord<>("evalfleet.jobs", 2, 41L, "k", "{oops".getBytes());
    record.headers().add("trace", "t1".getBytes());
    ProducerRecord<String, byte[]> dead =
        DeadLetters.of(record, new IllegalArgumentException("malformed JSON"));
    assertThat(dead.topic()).isEqualTo(Topics.DLQ);
    assertThat(dead.key()).isEqualTo("k");
    assertThat(dead.value()).isEqualTo("{oops".getBytes());
    assertThat(headers(dead.headers()))
        .containsExactly(
            "trace=t1",
            "evalfleet.original.topic=evalfleet.jobs",
            "evalfleet.original.partition=2",
            "evalfleet.original.offset=41",
            "evalfleet.error.class=java.lang.IllegalArgumentException",
            "evalfleet.error.message=malformed JSON");
  }

  @Test
  void somethingThatWasNeverOneRecordNamesItsTopicAndTheRolesOwnHeadersComeLast() {
    Headers headers =
        DeadLetters.from("evalfleet.drift-flags", new IllegalStateException("503"))
            .header("evalfleet.notifier.target", "webhook")
            .headers();
    assertThat(headers(headers))
        .containsExactly(
            "evalfleet.original.topic=evalfleet.drift-flags",
            "evalfleet.error.class=java.lang.IllegalStateException",
            "evalfleet.error.message=503",
            "evalfleet.notifier.target=webhook");
  }

  @Test
  void aCauseWithoutAMessageSaysNull() {
    Headers original = new RecordHeaders(new Header[0]);
    Headers headers =
        DeadLetters.from("t", new RuntimeException()).copying(original).at(0, 0).headers();
    assertThat(
            new String(
                headers.lastHeader(DeadLetters.ERROR_MESSAGE).value(), StandardCharsets.UTF_8))
        .isEqualTo("null");
  }
}
