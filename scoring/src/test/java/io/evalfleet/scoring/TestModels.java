package io.evalfleet.scoring;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.storage.Storage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The real sentence-embedding models from the Maven Central jars on the test classpath, copied once
 * into {@code target/test-models} so that they can be referenced by file URI.
 */
public final class TestModels {
  static final Path DIR = Path.of("target", "test-models").toAbsolutePath();

  private TestModels() {}

  public static ArtifactRef fp32() throws IOException {
    return extract("all-minilm-l6-v2.onnx");
  }

  public static ArtifactRef int8() throws IOException {
    return extract("all-minilm-l6-v2-q.onnx");
  }

  public static ArtifactRef tokenizer() throws IOException {
    return extract("all-minilm-l6-v2-tokenizer.json");
  }

  /** bge-small-en-v1.5: a CLS-pooled, normalised sentence-embedding model. */
  public static ArtifactRef bge() throws IOException {
    return extract("bge-small-en-v1.5.onnx");
  }

  public static ArtifactRef bgeTokenizer() throws IOException {
    return extract("bge-small-en-v1.5-tokenizer.json");
  }

  static synchronized ArtifactRef extract(String resource) throws IOException {
    Path target = DIR.resolve(resource);
    if (!Files.exists(target)) {
      Files.createDirectories(DIR);
      try (InputStream in = TestModels.class.getResourceAsStream("/" + resource)) {
        if (in == null) {
          throw new IOException(resource + " is not on the test classpath");
        }
        Path tmp = Files.createTempFile(DIR, resource, ".partial");
        Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      }
    }
    String uri = target.toUri().toString();
    return new ArtifactRef(uri, Storage.withDefaults().sha256(uri));
  }
}
