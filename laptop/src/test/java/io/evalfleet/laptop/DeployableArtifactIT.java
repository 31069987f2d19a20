package io.evalfleet.laptop;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * What operators deploy ({@code cli/target/evalfleet.jar} and its {@code lib/}, which the container
 * images copy) carries no test kit, no broker and no demo models, and one logging backend.
 */
class DeployableArtifactIT {
  static final Path DEPLOYABLE = Path.of("..", "cli", "target").toAbsolutePath().normalize();

  @Test
  void deployableJarsCarryNoTestKitNoBrokerAndNoDemoModels() throws IOException {
    List<String> jars = jars(DEPLOYABLE.resolve("lib"));
    assertThat(jars)
        .as("the deployable's dependencies")
        .isNotEmpty()
        .noneMatch(
            j -> j.startsWith("junit-") || j.startsWith("opentest4j") || j.startsWith("assertj"))
        .noneMatch(
            j ->
                j.startsWith("kafka_2.13")
                    || j.startsWith("kafka-test-common")
                    || j.startsWith("kafka-server"))
        .noneMatch(j -> j.startsWith("scala-"))
        .noneMatch(j -> j.startsWith("langchain4j-"))
        .noneMatch(
            j ->
                j.startsWith("slf4j-simple")
                    || j.startsWith("log4j-core")
                    || j.startsWith("log4j-slf4j"))
        .anyMatch(j -> j.startsWith("logback-classic"))
        .anyMatch(j -> j.startsWith("jul-to-slf4j"))
        .anyMatch(j -> j.startsWith("log4j-to-slf4j"));
    try (JarFile jar = new JarFile(DEPLOYABLE.resolve("evalfleet.jar").toFile())) {
      assertThat(jar.stream().map(e -> e.getName()))
          .as("the deployable jar's entries")
          .noneMatch(n -> n.startsWith("io/evalfleet/laptop/"))
          .noneMatch(n -> n.endsWith(".onnx") || n.startsWith("golden/"));
    }
    long bytes = 0;
    for (String jar : jars) {
      bytes += Files.size(DEPLOYABLE.resolve("lib").resolve(jar));
    }
    bytes += Files.size(DEPLOYABLE.resolve("evalfleet.jar"));
    System.out.printf(
        Locale.ROOT,
        "deployable: evalfleet.jar and %d jars in lib/, %.1f MiB%n",
        jars.size(),
        bytes / (1024.0 * 1024));
  }

  private static List<String> jars(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".jar"))
          .sorted()
          .toList();
    }
  }
}
