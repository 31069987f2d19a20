package io.evalfleet.scoring.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * What this machine tells about its processors, for the scoring envelope: the CPU architecture, the
 * CPU's model name ({@code /proc/cpuinfo}) and the NVIDIA GPU's name ({@code
 * /proc/driver/nvidia/gpus/}), read once. A machine that does not tell (another OS, a container
 * without {@code /proc}) gives null for what it hides.
 */
public final class Machine {
  /** The JVM's {@code os.arch}, e.g. {@code amd64} or {@code aarch64}. */
  public static final String CPU_ARCH = System.getProperty("os.arch");

  /** The first "model name" of {@code /proc/cpuinfo}, or null. */
  public static final String CPU_MODEL = cpuModel(Path.of("/proc/cpuinfo")).orElse(null);

  /** The first NVIDIA GPU's "Model" in {@code /proc/driver/nvidia/gpus/}, or null. */
  public static final String GPU = gpuName(Path.of("/proc/driver/nvidia/gpus")).orElse(null);

  private Machine() {}

  /** The value of the first {@code model name} line of a cpuinfo file. */
  static Optional<String> cpuModel(Path cpuinfo) {
    return firstValue(cpuinfo, "model name");
  }

  /** The {@code Model} line of the first GPU's {@code information} file under {@code dir}. */
  static Optional<String> gpuName(Path dir) {
    if (!Files.isDirectory(dir)) {
      return Optional.empty();
    }
    try (Stream<Path> gpus = Files.list(dir)) {
      return gpus.sorted()
          .map(gpu -> firstValue(gpu.resolve("information"), "Model"))
          .flatMap(Optional::stream)
          .findFirst();
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  private static Optional<String> firstValue(Path file, String key) {
    try {
      List<String> lines = Files.readAllLines(file);
      for (String line : lines) {
        int colon = line.indexOf(':');
        if (colon > 0 && line.substring(0, colon).trim().equals(key)) {
          String value = line.substring(colon + 1).trim().replaceAll("\\s+", " ");
          return value.isEmpty() ? Optional.empty() : Optional.of(value);
        }
      }
      return Optional.empty();
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }
}
