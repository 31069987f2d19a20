package io.evalfleet.worker;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a process that scored one job and died tells about the job: its exit status (a JVM reports
 * death by signal {@code n} as {@code 128 + n}) and the last lines it wrote. Running out of heap
 * ({@code java.lang.OutOfMemoryError} anywhere in the output: {@code -XX:+ExitOnOutOfMemoryError}
 * writes it to standard output and exits 3) is named with the heap limit; a JVM's native crash
 * report with its signal and problematic frame; anything else with the signal or exit status and
 * the last meaningful line. Stateless.
 */
final class Evidence {
  private static final Map<Integer, String> SIGNALS =
      Map.of(
          1, "SIGHUP", 2, "SIGINT", 4, "SIGILL", 6, "SIGABRT", 7, "SIGBUS", 8, "SIGFPE", 9,
          "SIGKILL", 11, "SIGSEGV", 15, "SIGTERM");
  private static final Pattern FATAL_SIGNAL =
      Pattern.compile("^#\\s+(SIG[A-Z]+) \\(0x[0-9a-f]+\\)");
  private static final int MAX_LINE = 300;

  private Evidence() {}

  /**
   * How the process died, in words, e.g. {@code ran out of memory (-Xmx256m)} or {@code was killed
   * by signal 9 (SIGKILL)}.
   *
   * @param exitStatus the process's exit status, as {@link Process#exitValue()} reports it
   * @param heap the heap limit the process ran with, e.g. {@code -Xmx256m}
   * @param output the last lines of its standard output and error, oldest first
   */
  static String of(int exitStatus, String heap, List<String> output) {
    if (output.stream().anyMatch(line -> line.contains("java.lang.OutOfMemoryError"))) {
      return "ran out of memory (" + heap + "), exit status " + exitStatus;
    }
    Optional<String> nativeCrash = nativeCrash(output);
    if (nativeCrash.isPresent()) {
      return "crashed in native code (" + nativeCrash.get() + "), exit status " + exitStatus;
    }
    String how =
        exitStatus > 128 && exitStatus < 128 + 65
            ? "was killed by signal " + (exitStatus - 128) + signalName(exitStatus - 128)
            : "exited with status " + exitStatus;
    return lastMeaningful(output).map(line -> how + "; its last words: " + line).orElse(how);
  }

  private static String signalName(int signal) {
    String name = SIGNALS.get(signal);
    return name == null ? "" : " (" + name + ")";
  }

  /**
   * The signal and the problematic frame of a HotSpot fatal error report, when the output holds
   * one.
   */
  private static Optional<String> nativeCrash(List<String> output) {
    String signal = null;
    String frame = null;
    for (int i = 0; i < output.size(); i++) {
      Matcher matcher = FATAL_SIGNAL.matcher(output.get(i));
      if (matcher.find()) {
        signal = matcher.group(1);
      }
      if (output.get(i).startsWith("# Problematic frame:") && i + 1 < output.size()) {
        frame = output.get(i + 1).replaceFirst("^#\\s*", "").trim();
      }
    }
    if (signal == null) {
      return Optional.empty();
    }
    return Optional.of(frame == null ? signal : signal + " in " + shorten(frame));
  }

  /** The last line that says something: not blank, not a crash report's decoration. */
  static Optional<String> lastMeaningful(List<String> output) {
    for (int i = output.size() - 1; i >= 0; i--) {
      String line = output.get(i).strip();
      if (!line.isEmpty() && !line.startsWith("#")) {
        return Optional.of(shorten(line));
      }
    }
    return Optional.empty();
  }

  private static String shorten(String line) {
    return line.length() > MAX_LINE ? line.substring(0, MAX_LINE) + "..." : line;
  }
}
