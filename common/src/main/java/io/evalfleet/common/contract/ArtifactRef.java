package io.evalfleet.common.contract;

/**
 * A file the fleet must read, with the sha256 it must have.
 *
 * @param uri an absolute path or a Hadoop FileSystem URI ({@code file:}, {@code hdfs:}, {@code s3a:}, ...)
 * @param sha256 the expected digest of the file's bytes, 64 hex characters
 */
public record ArtifactRef(String uri, String sha256) {
  public ArtifactRef {
    uri = Checks.storageUri(uri, "uri");
    sha256 = Checks.sha256(sha256, "sha256");
  }
}
