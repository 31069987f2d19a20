package io.evalfleet.common.contract;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.net.URI;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A file the fleet must read, with the sha256 it must have.
 *
 * @param uri an absolute path or a Hadoop FileSystem URI ({@code file:}, {@code hdfs:}, {@code
 *     s3a:}, ...)
 * @param sha256 the expected digest of the file's bytes, 64 hex characters
 * @param externalData for an ONNX model saved with external data (models over 2 GB must be): the
 *     data files it references, each with its digest. ONNX Runtime opens them by file name relative
 *     to the model, so they keep their names and lie beside it (locally, in the same directory).
 */
public record ArtifactRef(
    String uri,
    String sha256,
    @JsonInclude(JsonInclude.Include.NON_EMPTY) List<ArtifactRef> externalData) {

  public ArtifactRef {
    uri = Checks.storageUri(uri, "uri");
    sha256 = Checks.sha256(sha256, "sha256");
    externalData = externalData == null ? List.of() : List.copyOf(externalData);
    Set<String> names = new HashSet<>();
    for (ArtifactRef data : externalData) {
      if (!data.externalData().isEmpty()) {
        throw new ContractViolation(
            "external_data", "an external data file has no external data of its own");
      }
      if (!names.add(data.fileName())) {
        throw new ContractViolation(
            "external_data", "two files are named '" + data.fileName() + "'");
      }
      if (data.fileName().equals(fileNameOf(uri))) {
        throw new ContractViolation(
            "external_data", "'" + data.fileName() + "' has the model's own file name");
      }
    }
  }

  public ArtifactRef(String uri, String sha256) {
    this(uri, sha256, List.of());
  }

  /** The last segment of the location: the name ONNX Runtime knows the file by. */
  public String fileName() {
    return fileNameOf(uri);
  }

  private static String fileNameOf(String uri) {
    String path = URI.create(uri).getPath();
    if (path == null) {
      path = uri;
    }
    return path.substring(path.lastIndexOf('/') + 1);
  }
}
