package io.evalfleet.cli;

import io.evalfleet.common.storage.Storage;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/** Opens a page in the desktop's browser: {@code xdg-open} on Linux, {@code open} on macOS. */
final class Browser {
  private Browser() {}

  /**
   * Copies a page from the archive's file system to a local file when it is elsewhere, then opens
   * it.
   */
  static void open(Storage storage, String uri) throws IOException, InterruptedException {
    Path local;
    if (uri.startsWith("file:")) {
      local = Path.of(URI.create(uri));
    } else {
      local = Files.createTempFile("evalfleet-report-", ".html");
      try (InputStream in = storage.open(uri)) {
        Files.copy(in, local, StandardCopyOption.REPLACE_EXISTING);
      }
    }
    String opener =
        System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("mac")
            ? "open"
            : "xdg-open";
    try {
      Process process = new ProcessBuilder(opener, local.toString()).inheritIO().start();
      process.waitFor();
    } catch (IOException e) {
      System.err.println(
          "cannot start " + opener + " (" + e.getMessage() + "): open " + local + " in a browser");
    }
  }
}
