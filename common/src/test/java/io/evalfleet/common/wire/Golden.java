package io.evalfleet.common.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.evalfleet.common.contract.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Golden files of the wire and archive formats, under {@code src/test/resources/wire/}: a value
 * serialised with the project's mapper must equal its file byte for byte, and the file read back
 * and serialised again must equal it too. Run the tests with {@code -Dwire.golden.write=true} to
 * write the files from the values instead (only when a format change is meant). A record with a
 * builder must also come back equal from {@code toBuilder().build()}: see {@link RecordBuilders}.
 */
public final class Golden {
  private Golden() {}

  /** A Kafka message: compact JSON, as {@link Json#write} puts it on a topic. */
  public static <T> void assertMessage(String file, T value, Class<T> type) {
    check(file, value, type, false);
  }

  /** An archive file: pretty-printed JSON, as the evaluation archive writes it. */
  public static <T> void assertArchived(String file, T value, Class<T> type) {
    check(file, value, type, true);
  }

  private static <T> void check(String file, T value, Class<T> type, boolean pretty) {
    RecordBuilders.assertComplete(value);
    String written = serialise(value, pretty);
    if (Boolean.getBoolean("wire.golden.write")) {
      try {
        Files.writeString(
            Path.of("src/test/resources/wire", file), written, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    String golden = Boolean.getBoolean("wire.golden.write") ? written : read(file);
    assertThat(written).as("%s serialised", file).isEqualTo(golden);
    T parsed = Json.read(golden.getBytes(StandardCharsets.UTF_8), type);
    assertThat(serialise(parsed, pretty))
        .as("%s read and serialised again", file)
        .isEqualTo(golden);
  }

  private static String serialise(Object value, boolean pretty) {
    try {
      return pretty
          ? Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(value)
          : Json.writeString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String read(String file) {
    try (InputStream in = Golden.class.getResourceAsStream("/wire/" + file)) {
      assertThat(in).as("golden file wire/%s", file).isNotNull();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
