package io.evalfleet.worker;

import com.fasterxml.jackson.databind.JsonNode;
import io.evalfleet.common.contract.Json;
import java.io.IOException;

/**
 * Reads a role's log line (one JSON object per line in production) as the words it carries.
 * Stateless.
 */
final class LogLines {
  private LogLines() {}

  /**
   * The formatted message of a JSON log line, with its exception's class and message if any; any
   * other line as it is.
   */
  static String message(String line) {
    if (!line.startsWith("{")) {
      return line;
    }
    try {
      JsonNode node = Json.mapper().readTree(line);
      String message = node.path("formattedMessage").asText("");
      if (message.isEmpty()) {
        return line;
      }
      JsonNode throwable = node.path("throwable");
      String className = throwable.path("className").asText("");
      return className.isEmpty()
          ? message
          : message + " (" + className + ": " + throwable.path("message").asText("") + ")";
    } catch (IOException | RuntimeException e) {
      return line; // a line cut short: kept as it is
    }
  }
}
