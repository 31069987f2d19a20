package io.evalfleet.common.process;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * This process's memory high-water marks: the JVM heap (sum of the heap pools' peaks, an upper
 * bound of the true peak) and the resident set (which also counts ONNX Runtime's native memory).
 */
public final class ProcessMemory {
  private static final long MIB = 1024 * 1024;

  private ProcessMemory() {}

  public static long peakHeapBytes() {
    long sum = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
        sum += pool.getPeakUsage().getUsed();
      }
    }
    return sum;
  }

  /** Peak resident set size (Linux {@code VmHWM}), or -1 where {@code /proc} does not tell. */
  public static long peakRssBytes() {
    return procStatusKib("VmHWM:") * 1024;
  }

  /** Current resident set size (Linux {@code VmRSS}), or -1 where {@code /proc} does not tell. */
  public static long rssBytes() {
    return procStatusKib("VmRSS:") * 1024;
  }

  /** One line for logs: {@code peak heap 123 MiB of 256 MiB max, peak RSS 456 MiB}. */
  public static String summary() {
    long rss = peakRssBytes();
    return String.format(
        Locale.ROOT,
        "peak heap %d MiB of %d MiB max, peak RSS %s",
        peakHeapBytes() / MIB,
        Runtime.getRuntime().maxMemory() / MIB,
        rss < 0 ? "unknown" : rss / MIB + " MiB");
  }

  private static long procStatusKib(String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(field)) {
          return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or /proc is not mounted
    }
    return -1;
  }
}
