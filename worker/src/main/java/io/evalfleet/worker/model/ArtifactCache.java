package io.evalfleet.worker.model;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.storage.DigestMismatchException;
import io.evalfleet.common.storage.Storage;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Turns an {@link ArtifactRef} into a verified local file that ONNX Runtime and the tokenizer can
 * open by path. Local files are hashed in place; files on other file systems are streamed into a
 * content-addressed directory ({@code <root>/<sha256>/<file name>}), hashed while streaming, and
 * renamed into place atomically only when the digest matches. A mismatch is never used. Thread-safe.
 */
public final class ArtifactCache {
  private final Storage storage;
  private final Path root;
  /** Local files already verified, keyed by path, size and modification time. */
  private final Map<String, String> verifiedLocal = new ConcurrentHashMap<>();

  public ArtifactCache(Storage storage, Path root) {
    this.storage = storage;
    this.root = root;
  }

  public Path localFile(ArtifactRef ref) throws IOException {
    URI uri = URI.create(ref.uri());
    if (uri.getScheme() == null || uri.getScheme().equals("file")) {
      Path local = Path.of(uri.getScheme() == null ? ref.uri() : uri.getPath());
      storage.size(ref.uri());
      String stamp = local.toAbsolutePath() + "|" + Files.size(local) + "|" + Files.getLastModifiedTime(local).toMillis();
      if (!ref.sha256().equals(verifiedLocal.get(stamp))) {
        storage.verify(ref.uri(), ref.sha256());
        verifiedLocal.put(stamp, ref.sha256());
      }
      return local;
    }
    return fetch(ref, uri);
  }

  private Path fetch(ArtifactRef ref, URI uri) throws IOException {
    String name = Path.of(uri.getPath()).getFileName().toString();
    Path dir = root.resolve(ref.sha256());
    Path target = dir.resolve(name);
    if (Files.exists(target)) {
      return target;
    }
    Files.createDirectories(dir);
    Path partial = Files.createTempFile(dir, name, ".partial");
    try {
      MessageDigest digest = Storage.newDigest();
      try (InputStream in = storage.open(ref.uri());
           OutputStream out = new DigestOutputStream(Files.newOutputStream(partial), digest)) {
        in.transferTo(out);
      }
      String actual = HexFormat.of().formatHex(digest.digest());
      if (!actual.equals(ref.sha256())) {
        throw new DigestMismatchException(ref.uri(), ref.sha256(), actual);
      }
      Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
      return target;
    } finally {
      Files.deleteIfExists(partial);
    }
  }
}
