package io.evalfleet.laptop.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The local disk as a store: a folder whose files the fleet reads and writes by {@code file:} URIs,
 * with Hadoop's defaults.
 */
public final class LocalFileStore implements FileStore {
  private final Path root;

  public LocalFileStore(Path root) throws IOException {
    this.root = Files.createDirectories(root).toAbsolutePath();
  }

  @Override
  public String scheme() {
    return "file";
  }

  @Override
  public String put(Path local, String name) throws IOException {
    Path target = root.resolve(name);
    try (Stream<Path> files = Files.walk(local)) {
      for (Path file : files.toList()) {
        Path copy = target.resolve(local.relativize(file).toString());
        if (Files.isDirectory(file)) {
          Files.createDirectories(copy);
        } else {
          Files.createDirectories(copy.getParent());
          Files.copy(file, copy, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    return uri(name);
  }

  @Override
  public String uri(String name) {
    return root.resolve(name).toUri().toString();
  }

  @Override
  public Map<String, String> settings() {
    return Map.of();
  }

  @Override
  public void close() {}
}
