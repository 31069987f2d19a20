package io.evalfleet.worker.model;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.storage.DigestMismatchException;
import io.evalfleet.common.storage.Storage;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.DirectoryStream;
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
 * <p>Local files are used in place, their digests checked (and remembered by length and modification
 * time). Files on other file systems are streamed into a content-addressed directory, {@code
 * <root>/<sha256>/} holding the model and its external data under their own names, hashed while
 * streaming; the directory is renamed into place atomically only when every digest matches, so a
 * mismatch or a crash never leaves a file that could be used. The cache is bounded in bytes: after a
 * fetch, the least recently used entries are deleted until it fits, never one that is in use (a
 * {@link Use} is open on it). Entries left by an earlier process are found again at start-up.
 * Thread-safe.
 */
public final class ArtifactCache {
  private static final Logger log = LoggerFactory.getLogger(ArtifactCache.class);
  private static final String INCOMING = ".incoming";

  private final Storage storage;
  private final Path root;
  private final long maxBytes;
  private final Map<String, Entry> entries = new HashMap<>();
  private long bytes;
  private long useClock;
  private final AtomicLong hits = new AtomicLong();
  private final AtomicLong fetches = new AtomicLong();
  private final AtomicLong evictions = new AtomicLong();

  private static final class Entry {
    final long size;
    long lastUsed;
    int users;

    Entry(long size, long lastUsed) {
      this.size = size;
      this.lastUsed = lastUsed;
    }
  }

  /** Verified local files for one artifact, protected from eviction until closed. */
  public final class Use implements AutoCloseable {
    private final Path path;
    private final String key;
    private boolean closed;

    private Use(Path path, String key) {
      this.path = path;
      this.key = key;
    }

    /** The model (or tokenizer) file; external data files lie beside it. */
    public Path path() {
      return path;
    }

    @Override
    public void close() {
      if (key != null && !closed) {
        closed = true;
        release(key);
      }
    }
  }

  public ArtifactCache(Storage storage, Path root, long maxBytes) {
    if (maxBytes <= 0) {
      throw new IllegalArgumentException("cache size must be positive, got " + maxBytes + " bytes");
    }
    this.storage = storage;
    this.root = root;
    this.maxBytes = maxBytes;
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
    synchronized (this) {
      Entry entry = entries.get(ref.sha256());
      if (entry != null) {
        entry.users++;
        entry.lastUsed = ++useClock;
        hits.incrementAndGet();
        touch(root.resolve(ref.sha256()));
        return new Use(root.resolve(ref.sha256()).resolve(ref.fileName()), ref.sha256());
      }
    }
    // Fetched outside the lock: other artifacts stay available meanwhile. Two threads fetching the
    // same artifact both verify it; the second rename finds the first in place and discards its copy.
    Path dir = fetch(ref);
    synchronized (this) {
      Entry entry = entries.get(ref.sha256());
      if (entry == null) {
        entry = new Entry(sizeOf(dir), ++useClock);
        entries.put(ref.sha256(), entry);
        bytes += entry.size;
      }
      entry.users++;
      entry.lastUsed = ++useClock;
      evictToFit(ref.sha256());
      return new Use(dir.resolve(ref.fileName()), ref.sha256());
    }
  }

  public long maxBytes() {
    return maxBytes;
  }

  public synchronized long bytes() {
    return bytes;
  }

  public synchronized int entries() {
    return entries.size();
  }

  public long hits() {
    return hits.get();
  }

  public long fetches() {
    return fetches.get();
  }

  public long evictions() {
    return evictions.get();
  }

  private Path verifyInPlace(ArtifactRef ref) throws IOException {
    Path model = localPath(ref);
    storage.verify(ref.uri(), ref.sha256());
    for (ArtifactRef data : ref.externalData()) {
      Path file = localPath(data);
      if (!file.toAbsolutePath().getParent().equals(model.toAbsolutePath().getParent())) {
        throw new FileNotFoundException("external data file " + data.uri() + " must lie beside its model in "
            + model.getParent() + ", where ONNX Runtime looks for it");
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
        log.info("cached {} ({} files, {} bytes) as {}", ref.uri(), 1 + ref.externalData().size(), sizeOf(target),
            target);
      } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
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

  private synchronized void release(String key) {
    Entry entry = entries.get(key);
    if (entry != null) {
      entry.users--;
    }
    evictToFit(null);
  }

  /** Deletes least recently used idle entries until the cache fits; {@code keep} is never deleted. */
  private void evictToFit(String keep) {
    while (bytes > maxBytes) {
      String victim = entries.entrySet().stream()
          .filter(e -> e.getValue().users == 0 && !e.getKey().equals(keep))
          .min(Comparator.comparingLong(e -> e.getValue().lastUsed))
          .map(Map.Entry::getKey).orElse(null);
      if (victim == null) {
        log.warn("model cache holds {} bytes, over its {} byte bound, but every entry is in use", bytes, maxBytes);
        return;
      }
      Entry removed = entries.remove(victim);
      bytes -= removed.size;
      evictions.incrementAndGet();
      try {
        deleteTree(root.resolve(victim));
        log.info("evicted {} ({} bytes) from the model cache", victim, removed.size);
      } catch (IOException e) {
        log.warn("cannot delete evicted cache entry {}: {}", victim, e.toString());
      }
    }
  }

  /** Finds the entries an earlier process left, oldest use first, and clears unfinished downloads. */
  private void scan() {
    try {
      Files.createDirectories(root);
      deleteTree(root.resolve(INCOMING));
      try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root, p -> p.getFileName().toString().matches("[0-9a-f]{64}"))) {
        Map<Path, FileTime> used = new HashMap<>();
        for (Path dir : dirs) {
          used.put(dir, Files.getLastModifiedTime(dir));
        }
        used.entrySet().stream().sorted(Map.Entry.comparingByValue()).forEach(e -> {
          Entry entry = new Entry(sizeOf(e.getKey()), ++useClock);
          entries.put(e.getKey().getFileName().toString(), entry);
          bytes += entry.size;
        });
      }
      evictToFit(null);
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
