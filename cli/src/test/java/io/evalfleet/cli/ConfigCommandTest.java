package io.evalfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ConfigCommandTest {
  @Test
  void effectiveSettingsShowEverySettingAndNoSecret() {
    PrintStream console = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int exit;
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      exit =
          Evalfleet.execute(
              Evalfleet.commandLine(),
              new String[] {
                "config",
                "--effective",
                "-D",
                "hadoop.fs.s3a.endpoint=http://minio:9000",
                "-D",
                "hadoop.fs.s3a.access.key=fleet",
                "-D",
                "hadoop.fs.s3a.secret.key=s3-secret",
                "-D",
                "kafka.sasl.jaas.config=ScramLoginModule required password=\"kafka-secret\";"
              });
    } finally {
      System.setOut(console);
    }
    assertThat(exit).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains(
            "dispatcher.shard-rows=256",
            "hadoop.fs.s3a.endpoint=http://minio:9000",
            "hadoop.fs.s3a.access.key=<redacted>",
            "hadoop.fs.s3a.secret.key=<redacted>",
            "kafka.sasl.jaas.config=<redacted>")
        .doesNotContain("s3-secret", "kafka-secret");
  }
}
