package io.evalfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigCommandTest {
  @TempDir Path dir;

  record Run(int exit, String out, String err) {}

  private static Run run(String... args) {
    PrintStream console = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StringWriter err = new StringWriter();
    var line = Evalfleet.commandLine();
    line.setErr(new PrintWriter(err, true));
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      return new Run(Evalfleet.execute(line, args), out.toString(StandardCharsets.UTF_8), "" + err);
    } finally {
      System.setOut(console);
    }
  }

  @Test
  void effectiveSettingsShowEverySettingAndNoSecretFromTheConfigFile() throws Exception {
    Path file = dir.resolve("fleet.properties");
    Files.writeString(
        file,
        """
        hadoop.fs.s3a.endpoint=http://minio:9000
        hadoop.fs.s3a.access.key=fleet
        hadoop.fs.s3a.secret.key=s3-secret
        kafka.sasl.jaas.config=ScramLoginModule required password="kafka-secret";
        """);
    Run run = run("config", "--effective", "--config", file.toString());
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out())
        .contains(
            "dispatcher.shard-rows=256",
            "hadoop.fs.s3a.endpoint=http://minio:9000",
            "hadoop.fs.s3a.access.key=<redacted>",
            "hadoop.fs.s3a.secret.key=<redacted>",
            "kafka.sasl.jaas.config=<redacted>")
        .doesNotContain("s3-secret", "kafka-secret");
  }

  @Test
  void aSecretGivenWithDashDIsRefusedSayingHowToGiveItInsteadAndNotShown() {
    Run run =
        run(
            "config",
            "--effective",
            "-D",
            "hadoop.fs.s3a.secret.key=s3-secret",
            "-D",
            "kafka.sasl.jaas.config=ScramLoginModule required username=\"w\" password=\"pw-1\";",
            "-D",
            "kafka.security.protocol=SASL_SSL");
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err())
        .contains(
            "a secret on the command line",
            "-D hadoop.fs.s3a.secret.key, -D kafka.sasl.jaas.config.",
            "${env:VARIABLE}",
            "${dir:",
            "--config file")
        .doesNotContain("s3-secret", "pw-1", "kafka.security.protocol", "\tat ");
    assertThat(run.out()).isEmpty();
  }

  @Test
  void aReferenceGivenWithDashDIsResolvedAndShownAsWritten() throws Exception {
    Path mounted = Files.createDirectories(dir.resolve("kafka"));
    Files.writeString(mounted.resolve("password"), "pw-from-dir");
    String jaas =
        "ScramLoginModule required username=\"w\" password=\"${dir:" + mounted + ":password}\";";
    Run run = run("config", "--effective", "-D", "kafka.sasl.jaas.config=" + jaas);
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).contains("kafka.sasl.jaas.config=" + jaas).doesNotContain("pw-from-dir");
  }

  @Test
  void aReferenceThatFindsNothingFailsNamingTheSettingAndTheReference() {
    Run run =
        run("config", "--effective", "-D", "kafka.ssl.key.password=${env:EVALFLEET_TEST_NOT_SET}");
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err())
        .contains(
            "setting 'kafka.ssl.key.password': reference '${env:EVALFLEET_TEST_NOT_SET}' found"
                + " nothing");
  }

  /**
   * The real command in its own JVM, as an operator runs it, with secrets in a file and the env.
   */
  @Test
  void theCommandInItsOwnProcessResolvesSecretsFromAFileAndTheEnvironmentAndPrintsNone()
      throws Exception {
    Path secrets = dir.resolve("s3.properties");
    Files.writeString(secrets, "secret=s3-secret-from-file\n");
    Path settings = dir.resolve("fleet.properties");
    Files.writeString(
        settings,
        "hadoop.fs.s3a.secret.key=${file:"
            + secrets
            + ":secret}\n"
            + "kafka.ssl.truststore.password=${env:TRUSTSTORE_PASSWORD}\n"
            + "hadoop.fs.s3a.access.key=literal-access-key-in-the-file\n");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(List.of("-cp", System.getProperty("java.class.path")));
    command.add(Evalfleet.class.getName());
    command.addAll(List.of("config", "--effective", "--config", settings.toString()));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("TRUSTSTORE_PASSWORD", "truststore-from-env");
    Process process = builder.start();
    String output;
    try {
      output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    } finally {
      process.destroyForcibly();
    }
    assertThat(process.exitValue()).as(output).isZero();
    assertThat(output)
        .contains(
            "hadoop.fs.s3a.secret.key=${file:" + secrets + ":secret}",
            "kafka.ssl.truststore.password=${env:TRUSTSTORE_PASSWORD}",
            "hadoop.fs.s3a.access.key=<redacted>")
        .doesNotContain(
            "s3-secret-from-file", "truststore-from-env", "literal-access-key-in-the-file");

    // the same in a child with the variable missing: resolution is real, and fails by name
    builder.environment().remove("TRUSTSTORE_PASSWORD");
    Process failing = builder.start();
    try {
      String failed = new String(failing.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(failing.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(failing.exitValue()).as(failed).isEqualTo(2);
      assertThat(failed)
          .contains("reference '${env:TRUSTSTORE_PASSWORD}' found nothing")
          .doesNotContain("s3-secret-from-file");
    } finally {
      failing.destroyForcibly();
    }
  }
}
