package io.evalfleet.cli.logging;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import java.io.IOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * The one logging set-up: SLF4J with logback, ONNX Runtime's {@code java.util.logging} and the
 * log4j API (Kafka's broker) bridged into it. Roles keep {@code logback.xml} (JSON lines on
 * stdout); interactive commands switch to {@code evalfleet-interactive.xml} with {@link
 * #interactive}.
 */
public final class Logging {
  private Logging() {}

  /** Routes {@code java.util.logging} into SLF4J. Call first thing in {@code main}. */
  public static void bridgeJavaUtilLogging() {
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
  }

  /**
   * Sends the full log to {@code logFile} (created, truncated) and only warnings and errors to the
   * console, or everything from INFO when {@code verbose}.
   *
   * @return the log file, for the command to name to its user
   */
  public static Path interactive(Path logFile, boolean verbose) throws IOException {
    Path file = logFile.toAbsolutePath();
    Files.createDirectories(file.getParent());
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    URL config = Logging.class.getResource("/evalfleet-interactive.xml");
    if (config == null) {
      throw new IllegalStateException(
          "evalfleet-interactive.xml is missing from the evalfleet jar");
    }
    context.reset();
    context.putProperty("evalfleet.log.file", file.toString());
    context.putProperty("evalfleet.console.level", verbose ? "INFO" : "WARN");
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    try {
      configurator.doConfigure(config);
    } catch (JoranException e) {
      throw new IllegalStateException("cannot configure logging from " + config, e);
    }
    return file;
  }
}
