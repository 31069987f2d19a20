package io.evalfleet.scoring.model;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.failure.InputException;
import io.evalfleet.common.storage.DigestMismatchException;
import io.evalfleet.common.storage.Storage;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns an {@link ArtifactRef} (a model with its external data files, or a tokenizer) into verified
 * local files that ONNX Runtime and the tokenizer can open by path.
 *
 * <p>Local files are used in place, their digests checked (and remembered by length and
 * modification time). Files on other file systems are streamed into a content-addressed directory,
 * {@code <root>/<sha256>/} holding the model and its external data under their own names, hashed
 * while streaming; the directory is renamed into place atomically only when every digest matches,
 * so a mismatch or a crash never leaves a file that could be used. The cache is bounded in bytes (a
 * {@link LeasePool}): the least recently used entries are deleted until it fits, never one that is
 * in use (a {@link Use} is open on it). Entries left by an earlier process are found again at
 * start-up. Thread-safe.
 */
public final class ArtifactCache {
  private static final Logger log = LoggerFactory.getLogger(ArtifactCache.class);
  private static final String INCOMING = ".incoming";

  private final Storage storage;
  private final Path root;

  /** Cache directories by digest, weighed in bytes; an evicted one is deleted. */
  private final LeasePool<String, Path> pool;

  private final AtomicLong hits = new AtomicLong();
  private final AtomicLong fetches = new AtomicLong();

  /** Verified local files for one artifact, protected from eviction until closed. */
  public final class Use implements AutoCloseable {
    private final Path path;
    private final LeasePool<String, Path>.Lease lease;

    private Use(Path path, LeasePool<String, Path>.Lease lease) {
      this.path = path;
      this.lease = lease;
    }

    /** The model (or tokenizer) file; external data files lie beside it. */
    public Path path() {
      return path;
    }

    @Override
    public void close() {
      if (lease != null) {
        lease.close();
      }
    }
  }

  public ArtifactCache(Storage storage, Path root, long maxBytes) {
    if (maxBytes <= 0) {
      throw new IllegalArgumentException("cache size must be positive, got " + maxBytes + " bytes");
    }
    this.storage = storage;
    this.root = root;
    this.pool = new LeasePool<>(maxBytes, ArtifactCache::sizeOf, this::evicted);
    scan();
  }

  /**
   * Verified local files for {@code ref}, fetched if they are remote.
   *
   * @throws FileNotFoundException if a file does not exist
   * @throws DigestMismatchException if a file's bytes do not have the promised digest
   */
  public Use acquire(ArtifactRef ref) throws IOException {
    URI uri = URI.create(ref.uri());
    if (uri.getScheme() == null || uri.getScheme().equals("file")) {
      return new Use(verifyInPlace(ref), null);
    }
    boolean[] fetched = {false};
    LeasePool<String, Path>.Lease lease;
    try {
      // Fetched outside the pool's lock: other artifacts stay available meanwhile, and callers that
      // want this one wait for its single fetch.
      lease =
          pool.acquire(
              ref.sha256(),
              () -> {
                fetched[0] = true;
                return fetch(ref);
              });
    } catch (IOException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException("cannot fetch " + ref.uri() + ": " + e, e);
    }
    if (!fetched[0]) {
      hits.incrementAndGet();
      touch(lease.value());
    }
    return new Use(lease.value().resolve(ref.fileName()), lease);
  }

  long maxBytes() {
    return pool.maxWeight();
  }

  public long bytes() {
    return pool.weight();
  }

  int entries() {
    return pool.size();
  }

  public long hits() {
    return hits.get();
  }

  public long fetches() {
    return fetches.get();
  }

  public long evictions() {
    return pool.evictions();
  }

  private Path verifyInPlace(ArtifactRef ref) throws IOException {
    Path model = localPath(ref);
    storage.verify(ref.uri(), ref.sha256());
    for (ArtifactRef data : ref.externalData()) {
      Path file = localPath(data);
      if (!file.toAbsolutePath().getParent().equals(model.toAbsolutePath().getParent())) {
        throw new InputException(
            "external data file "
                + data.uri()
                + " must lie beside its model in "
                + model.getParent()
                + ", where ONNX Runtime looks for it");
      }
      storage.verify(data.uri(), data.sha256());
    }
    return model;
  }

  private static Path localPath(ArtifactRef ref) {
    URI uri = URI.create(ref.uri());
    return Path.of(uri.getScheme() == null ? ref.uri() : uri.getPath());
  }

  private Path fetch(ArtifactRef ref) throws IOException {
    Path target = root.resolve(ref.sha256());
    Path incoming = root.resolve(INCOMING).resolve(ref.sha256() + "-" + UUID.randomUUID());
    Files.createDirectories(incoming);
    try {
      download(ref, incoming);
      for (ArtifactRef data : ref.externalData()) {
        download(data, incoming);
      }
      try {
        Files.move(incoming, target, StandardCopyOption.ATOMIC_MOVE);
        fetches.incrementAndGet();
        log.info(
            "cached {} ({} files, {} bytes) as {}",
            ref.uri(),
            1 + ref.externalData().size(),
            sizeOf(target),
            target);
      } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
        // fetched meanwhile by another thread or process; that copy was verified too
      }
      return target;
    } finally {
      deleteTree(incoming);
    }
  }

  private void download(ArtifactRef ref, Path dir) throws IOException {
    Path file = dir.resolve(ref.fileName());
    MessageDigest digest = Storage.newDigest();
    try (InputStream in = storage.open(ref.uri());
        OutputStream out = new DigestOutputStream(Files.newOutputStream(file), digest)) {
      in.transferTo(out);
    }
    String actual = HexFormat.of().formatHex(digest.digest());
    if (!actual.equals(ref.sha256())) {
      throw new DigestMismatchException(ref.uri(), ref.sha256(), actual);
    }
  }

  private void evicted(String digest, Path dir) {
    try {
      long size = sizeOf(dir);
      deleteTree(dir);
      log.info("evicted {} ({} bytes) from the model cache", digest, size);
    } catch (IOException | UncheckedIOException e) {
      log.warn("cannot delete evicted cache entry {}: {}", digest, e.toString());
    }
  }

  /**
   * Finds the entries an earlier process left, oldest use first, and clears unfinished downloads.
   */
  private void scan() {
    try {
      Files.createDirectories(root);
      deleteTree(root.resolve(INCOMING));
      try (DirectoryStream<Path> dirs =
          Files.newDirectoryStream(root, p -> p.getFileName().toString().matches("[0-9a-f]{64}"))) {
        Map<Path, FileTime> used = new HashMap<>();
        for (Path dir : dirs) {
          used.put(dir, Files.getLastModifiedTime(dir));
        }
        // Oldest use first, so that the least recently used is evicted first.
        used.entrySet().stream()
            .sorted(Map.Entry.comparingByValue())
            .forEach(e -> pool.adopt(e.getKey().getFileName().toString(), e.getKey()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the model cache in " + root, e);
    }
  }

  private static void touch(Path dir) {
    try {
      Files.setLastModifiedTime(dir, FileTime.fromMillis(System.currentTimeMillis()));
    } catch (IOException e) {
      // the order of use across restarts is a hint only
    }
  }

  private static long sizeOf(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }
}
