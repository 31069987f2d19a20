package io.evalfleet.cli.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import io.evalfleet.common.config.SecretValues;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shipped logging set-ups mask registered secrets in messages and stack traces. */
class SecretMaskingEncoderTest {
  private static final String SECRET = "s3cr\"et-in-a-log";

  @TempDir Path dir;

  private static LoggerContext configured(String resource, Path logFile) throws Exception {
    LoggerContext context = new LoggerContext();
    context.putProperty("evalfleet.log.file", logFile.toString());
    context.putProperty("evalfleet.console.level", "INFO");
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    context.setMDCAdapter(new LogbackMDCAdapter()); // what SLF4J's binding gives its context
    configurator.doConfigure(SecretMaskingEncoderTest.class.getResource(resource));
    return context;
  }

  private static void logTheSecret(LoggerContext context) {
    Logger logger = context.getLogger("io.evalfleet.test");
    logger.info("connecting with password {}", SECRET);
    logger.warn(
        "a library failed",
        new IllegalStateException(
            "authentication failed for " + SECRET, new RuntimeException(SECRET)));
  }

  @Test
  void theRolesJsonLinesMaskARegisteredSecretInMessagesAndExceptions() throws Exception {
    SecretValues.register(SECRET);
    PrintStream stdout = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LoggerContext context = configured("/logback.xml", dir.resolve("unused.log"));
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      logTheSecret(context);
    } finally {
      System.setOut(stdout);
      context.stop();
    }
    String rendered = out.toString(StandardCharsets.UTF_8);
    assertThat(rendered)
        .contains("connecting with password <redacted>", "authentication failed for <redacted>")
        .doesNotContain("s3cr", "et-in-a-log");
  }

  @Test
  void theInteractiveLogFileMasksARegisteredSecretInMessagesAndStackTraces() throws Exception {
    SecretValues.register(SECRET);
    Path file = dir.resolve("evalfleet.log");
    PrintStream stderr = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    LoggerContext context = configured("/evalfleet-interactive.xml", file);
    try {
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      logTheSecret(context);
    } finally {
      System.setErr(stderr);
      context.stop();
    }
    String logged = Files.readString(file);
    assertThat(logged)
        .contains(
            "connecting with password <redacted>",
            "IllegalStateException: authentication failed for <redacted>",
            "Caused by: java.lang.RuntimeException: <redacted>")
        .doesNotContain(SECRET);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("connecting with password <redacted>")
        .doesNotContain(SECRET);
  }

  @Test
  void anUnregisteredValueIsLoggedAsItIs() throws Exception {
    Path file = dir.resolve("plain.log");
    LoggerContext context = configured("/evalfleet-interactive.xml", file);
    PrintStream stderr = System.err;
    try {
      System.setErr(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
      context.getLogger("io.evalfleet.test").info("bootstrap servers broker-1:9093");
    } finally {
      System.setErr(stderr);
      context.stop();
    }
    assertThat(Files.readString(file)).contains("bootstrap servers broker-1:9093");
  }
}
