package io.evalfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class InvalidSettingsTest {
  private static String run(int expectedExit, String... args) {
    StringWriter err = new StringWriter();
    var line = Evalfleet.commandLine();
    line.setErr(new PrintWriter(err, true));
    assertThat(Evalfleet.execute(line, args)).isEqualTo(expectedExit);
    return err.toString();
  }

  @Test
  void badSettingsAreListedInWordsWithExitCode2() {
    assertThat(run(2, "worker", "-D", "worker.concurrency=x", "-D", "worker.batch-size=0"))
        .startsWith("evalfleet worker: invalid configuration:")
        .contains("worker.concurrency must be a positive integer, got 'x'", "worker.batch-size")
        .doesNotContain("\tat ");
  }

  @Test
  void aWebhookWithoutASecretIsRefusedBeforeTheNotifierStarts() {
    assertThat(run(2, "notifier", "-D", "notifier.webhook-url=https://hooks.example/x"))
        .contains("invalid notifier configuration", "no secret to sign with")
        .doesNotContain("\tat ");
  }
}
