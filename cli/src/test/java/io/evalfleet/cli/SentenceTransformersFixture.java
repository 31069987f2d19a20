package io.evalfleet.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The tiny byte embedding model inside a copy of a sentence-transformers folder that ships CLS
 * pooling and e5 prompts.
 */
final class SentenceTransformersFixture {
  static final Path FIXTURES = Path.of("..", "fixtures").toAbsolutePath().normalize();

  private SentenceTransformersFixture() {}

  /**
   * Copies the folder's configuration into {@code dir}/bytes-st with the model at its root or in
   * {@code onnx/}.
   */
  static Path bytesFolder(Path dir, boolean inOnnxSubfolder) throws IOException {
    Path folder = dir.resolve("bytes-st");
    Path from = FIXTURES.resolve("embedding/bytes-st");
    try (var files = Files.walk(from)) {
      for (Path file : files.toList()) {
        Path target = folder.resolve(from.relativize(file).toString());
        if (Files.isDirectory(file)) {
          Files.createDirectories(target);
        } else {
          Files.copy(file, target);
        }
      }
    }
    Path model =
        inOnnxSubfolder
            ? folder.resolve("onnx").resolve("model.onnx")
            : folder.resolve("model.onnx");
    Files.createDirectories(model.getParent());
    Files.copy(FIXTURES.resolve("embedding/bytes-no-token-types.onnx"), model);
    return folder;
  }
}
