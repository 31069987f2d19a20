package io.evalfleet.common.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.DriftFlag;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every record of this module with a nested {@code Builder} has a setter for each of its
 * components. That {@code toBuilder().build()} gives back the same record is held for the full
 * values of the golden files, by {@link Golden}.
 */
class RecordBuildersTest {
  @Test
  void everyBuilderHasASetterForEveryComponent() throws IOException, URISyntaxException {
    Path classes =
        Path.of(DriftFlag.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<Class<?>> records;
    try (Stream<Path> files = Files.walk(classes)) {
      records =
          files
              .map(classes::relativize)
              .map(Path::toString)
              .filter(name -> name.endsWith("$Builder.class"))
              .map(
                  name ->
                      name.substring(0, name.length() - "$Builder.class".length())
                          .replace('/', '.')
                          .replace('\\', '.'))
              .map(RecordBuildersTest::load)
              .filter(Class::isRecord)
              .toList();
    }
    assertThat(records).as("records with a Builder").contains(DriftFlag.class);
    for (Class<?> record : records) {
      assertThat(RecordBuilders.missingSetters(record))
          .as("components of %s its Builder has no setter for", record.getName())
          .isEmpty();
    }
  }

  private static Class<?> load(String name) {
    try {
      return Class.forName(name);
    } catch (ClassNotFoundException e) {
      throw new AssertionError(e);
    }
  }
}
