package io.evalfleet.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class EvidenceTest {
  @Test
  void outOfMemoryAnywhereInTheOutputNamesTheHeap() {
    assertThat(
            Evidence.of(
                3,
                "-Xmx256m",
                List.of(
                    "loading model",
                    "Terminating due to java.lang.OutOfMemoryError: Java heap space")))
        .isEqualTo("ran out of memory (-Xmx256m), exit status 3");
  }

  @Test
  void aNativeCrashReportNamesItsSignalAndFrame() {
    List<String> report =
        List.of(
            "#",
            "# A fatal error has been detected by the Java Runtime Environment:",
            "#",
            "#  SIGSEGV (0xb) at pc=0x00007f3c, pid=4242, tid=4250",
            "#",
            "# JRE version: OpenJDK Runtime Environment",
            "# Problematic frame:",
            "# C  [libonnxruntime.so+0x5a1b2c]  onnxruntime::Gemm",
            "#",
            "# An error report file with more information is saved as:",
            "# /tmp/hs_err_pid4242.log");
    assertThat(Evidence.of(134, "-Xmx1g", report))
        .isEqualTo(
            "crashed in native code (SIGSEGV in C  [libonnxruntime.so+0x5a1b2c]  onnxruntime::Gemm), exit status 134");
  }

  @Test
  void aSignalIsNamedAndTheLastMeaningfulLineQuoted() {
    assertThat(Evidence.of(137, "-Xmx1g", List.of("scoring 40 rows", "   ")))
        .isEqualTo("was killed by signal 9 (SIGKILL); its last words: scoring 40 rows");
    assertThat(Evidence.of(1, "-Xmx1g", List.of())).isEqualTo("exited with status 1");
  }

  @Test
  void aJsonLogLineReadsAsItsMessageAndException() {
    assertThat(
            LogLines.message(
                "{\"level\":\"ERROR\",\"formattedMessage\":\"cannot read rows\","
                    + "\"throwable\":{\"className\":\"java.io.IOException\",\"message\":\"disk gone\"}}"))
        .isEqualTo("cannot read rows (java.io.IOException: disk gone)");
    assertThat(LogLines.message("{not json")).isEqualTo("{not json");
  }
}
