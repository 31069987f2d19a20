package io.evalfleet.laptop.review;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;

/**
 * Opens a page in Debian's Chromium, headless, and returns its screenshot and the console messages
 * it logged (a script error, a resource the page's content-security policy blocked). Each run has
 * its own profile directory and is stopped by its own PID.
 */
final class HeadlessChromium {
  record Page(BufferedImage screenshot, List<String> console) {
    /** How many pixels have exactly this colour. */
    long pixels(Color color) {
      long count = 0;
      int rgb = color.getRGB() & 0xffffff;
      for (int y = 0; y < screenshot.getHeight(); y++) {
        for (int x = 0; x < screenshot.getWidth(); x++) {
          if ((screenshot.getRGB(x, y) & 0xffffff) == rgb) {
            count++;
          }
        }
      }
      return count;
    }
  }

  private HeadlessChromium() {}

  static boolean available() {
    return Files.isExecutable(Path.of("/usr/bin/chromium"));
  }

  static Page open(Path page, Path workDir) throws IOException, InterruptedException {
    Path png = workDir.resolve("screenshot-" + System.nanoTime() + ".png");
    Path profile = Files.createTempDirectory(workDir, "chromium-profile-");
    Path log = workDir.resolve("chromium-" + System.nanoTime() + ".log");
    Process process =
        new ProcessBuilder(
                "/usr/bin/chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--user-data-dir=" + profile,
                "--enable-logging=stderr",
                "--v=0",
                "--window-size=1280,6000",
                "--screenshot=" + png,
                page.toUri().toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    if (!process.waitFor(120, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
      throw new IOException(
          "chromium did not finish within 120 s; its log: " + Files.readString(log));
    }
    List<String> console =
        Files.readAllLines(log, StandardCharsets.UTF_8).stream()
            .filter(line -> line.contains(":CONSOLE"))
            .toList();
    if (!Files.exists(png)) {
      throw new IOException(
          "chromium wrote no screenshot (exit "
              + process.exitValue()
              + "); its log: "
              + Files.readString(log));
    }
    return new Page(ImageIO.read(png.toFile()), console);
  }
}
