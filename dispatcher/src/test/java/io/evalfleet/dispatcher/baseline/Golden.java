package io.evalfleet.dispatcher.baseline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.evalfleet.common.contract.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Golden files of the wire and archive formats, under {@code src/test/resources/wire/}: a value
 * serialised with the project's mapper must equal its file byte for byte, and the file read back and
 * serialised again must equal it too. Run the tests with {@code -Dwire.golden.write=true} to write
 * the files from the values instead (only when a format change is meant). A record with a builder
 * must have a setter for every component and come back equal from {@code toBuilder().build()} (as
 * common's {@code RecordBuilders} holds it there).
 */
final class Golden {
  private Golden() {}

  /** A Kafka message: compact JSON, as {@link Json#write} puts it on a topic. */
  static <T> void assertMessage(String file, T value, Class<T> type) {
    check(file, value, type, false);
  }

  /** An archive file: pretty-printed JSON, as the evaluation archive writes it. */
  static <T> void assertArchived(String file, T value, Class<T> type) {
    check(file, value, type, true);
  }

  private static <T> void check(String file, T value, Class<T> type, boolean pretty) {
    assertBuilderComplete(value);
    String written = serialise(value, pretty);
    if (Boolean.getBoolean("wire.golden.write")) {
      try {
        Files.writeString(Path.of("src/test/resources/wire", file), written, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    String golden = Boolean.getBoolean("wire.golden.write") ? written : read(file);
    assertThat(written).as("%s serialised", file).isEqualTo(golden);
    T parsed = Json.read(golden.getBytes(StandardCharsets.UTF_8), type);
    assertThat(serialise(parsed, pretty)).as("%s read and serialised again", file).isEqualTo(golden);
  }

  private static void assertBuilderComplete(Object value) {
    Class<?> type = value.getClass();
    Class<?> builder = Arrays.stream(type.getDeclaredClasses())
        .filter(nested -> nested.getSimpleName().equals("Builder")).findFirst().orElse(null);
    if (!type.isRecord() || builder == null) {
      return;
    }
    for (RecordComponent component : type.getRecordComponents()) {
      try {
        assertThat(builder.getMethod(component.getName(), component.getType()).getReturnType())
            .as("%s.Builder.%s(...)", type.getSimpleName(), component.getName()).isEqualTo(builder);
      } catch (NoSuchMethodException e) {
        throw new AssertionError(type.getSimpleName() + ".Builder has no setter for " + component.getName(), e);
      }
    }
    try {
      Object copy = type.getMethod("toBuilder").invoke(value);
      assertThat(builder.getMethod("build").invoke(copy)).as("%s.toBuilder().build()", type.getSimpleName())
          .isEqualTo(value);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(type + " has no public toBuilder() and Builder.build()", e);
    }
  }

  private static String serialise(Object value, boolean pretty) {
    try {
      return pretty ? Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(value)
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
