package io.evalfleet.laptop.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The artifact sizes README.md gives ({@code ## Two artifacts}: each row names its files in
 * backticks first, a folder ending in {@code /}, a file name may hold {@code *}, and its size last,
 * {@code N MiB} or {@code N MiB in M files}) are what the build made, within {@link #TOLERANCE}. It
 * runs after packaging, when {@code cli/target} and {@code laptop/target} hold what operators and
 * laptops run, and prints every figure it measured, so a stale one is fixed by copying.
 */
class ArtifactSizesIT {
  /** How far a measured figure may lie from the README's, relatively. */
  static final double TOLERANCE = 0.10;

  private static final Pattern PATH = Pattern.compile("`([^`]+)`");
  private static final Pattern SIZE =
      Pattern.compile("(\\d+(?:\\.\\d+)?) MiB(?: in (\\d+) files)?");

  @Test
  void readmeSizesAreWhatTheBuildMade() throws IOException {
    List<String> wrong = new ArrayList<>();
    for (List<String> row : ReadmeSections.tableRows("Two artifacts")) {
      Matcher size = SIZE.matcher(row.get(row.size() - 1));
      assertThat(size.matches())
          .as("the last cell of a README artifact row: N MiB [in M files]: %s", row)
          .isTrue();
      List<String> paths = new ArrayList<>();
      Matcher path = PATH.matcher(row.get(0));
      while (path.find()) {
        paths.add(path.group(1));
      }
      assertThat(paths)
          .as("the files of a README artifact row, in backticks: %s", row)
          .isNotEmpty();
      long bytes = 0;
      int files = 0;
      for (String each : paths) {
        List<Path> found = files(each);
        assertThat(found)
            .as("%s, named in README.md's artifact table (is it built? run with -am)", each)
            .isNotEmpty();
        for (Path file : found) {
          bytes += Files.size(file);
        }
        files += found.size();
      }
      double mib = bytes / (1024.0 * 1024);
      String measured = String.format(Locale.ROOT, "%.0f MiB in %d files", mib, files);
      System.out.printf(
          Locale.ROOT,
          "%s: %s (%,d bytes); README.md says %s%n",
          String.join(" ", paths),
          measured,
          bytes,
          size.group());
      double said = Double.parseDouble(size.group(1));
      boolean off = Math.abs(mib - said) > TOLERANCE * said;
      if (size.group(2) != null) {
        int saidFiles = Integer.parseInt(size.group(2));
        off |= Math.abs(files - saidFiles) > TOLERANCE * saidFiles;
      }
      if (off) {
        wrong.add(
            String.join(" ", paths)
                + ": README.md says "
                + size.group()
                + ", the build made "
                + measured);
      }
    }
    assertThat(wrong)
        .as("artifact sizes in README.md more than %.0f%% off what the build made", TOLERANCE * 100)
        .isEmpty();
  }

  /**
   * The regular files {@code path} names under the checkout: a folder's, recursively, or a file
   * name's matches.
   */
  private static List<Path> files(String path) throws IOException {
    Path resolved = ReadmeSections.ROOT.resolve(path);
    if (path.endsWith("/")) {
      if (!Files.isDirectory(resolved)) {
        return List.of();
      }
      try (Stream<Path> all = Files.walk(resolved)) {
        return all.filter(Files::isRegularFile).toList();
      }
    }
    if (!path.contains("*")) {
      return Files.isRegularFile(resolved) ? List.of(resolved) : List.of();
    }
    Path folder = resolved.getParent();
    if (!Files.isDirectory(folder)) {
      return List.of();
    }
    PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + resolved.getFileName());
    try (Stream<Path> all = Files.list(folder)) {
      return all.filter(p -> Files.isRegularFile(p) && matcher.matches(p.getFileName())).toList();
    }
  }
}
