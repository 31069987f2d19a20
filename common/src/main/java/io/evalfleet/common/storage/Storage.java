package io.evalfleet.common.storage;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.failure.FailureKind;
import io.evalfleet.common.failure.Failures;
import io.evalfleet.common.failure.InputException;
import io.evalfleet.common.failure.UnavailableException;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.core.functions.CheckedSupplier;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.github.resilience4j.micrometer.tagged.TaggedRetryMetrics;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import io.github.resilience4j.retry.RetryRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.UnknownHostException;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ChecksumFileSystem;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Reads artifacts and golden subsets through the Hadoop FileSystem API, so that local paths, {@code
 * file:}, {@code hdfs:} and (with its connector on the classpath) {@code s3a:} all work. Every call
 * checks the location against the allowed roots, then goes through a resilience4j retry (transient
 * I/O errors only: a missing file, a digest mismatch or a denied location is final) inside a
 * circuit breaker, so that a storage outage fails fast instead of piling up. Thread-safe.
 */
public final class Storage implements MeterBinder {
  private final Configuration conf;
  private final AllowedRoots roots;
  private final Retry retry;
  private final CircuitBreaker breaker;
  private final RetryRegistry retries;
  private final CircuitBreakerRegistry breakers;

  /** resilience4j's tagged meters of the retry and the circuit breaker. */
  private final MeterBinder retryMetrics;

  private final MeterBinder breakerMetrics;

  /**
   * Digests verified, by location, length and modification time; least recently used dropped first.
   */
  private final Cache<String, String> verified = Caffeine.newBuilder().maximumSize(4096).build();

  public Storage(Configuration conf, AllowedRoots roots, int attempts, Duration backoff) {
    this(conf, roots, attempts, backoff, Duration.ofSeconds(30));
  }

  /**
   * @param breakerOpen how long the circuit breaker stays open (failing fast) before a call is
   *     tried again
   */
  public Storage(
      Configuration conf,
      AllowedRoots roots,
      int attempts,
      Duration backoff,
      Duration breakerOpen) {
    this.conf = LocalFiles.use(conf);
    this.roots = roots;
    this.retries =
        RetryRegistry.of(
            RetryConfig.custom()
                .maxAttempts(attempts)
                .intervalFunction(IntervalFunction.ofExponentialBackoff(backoff, 2.0))
                .retryOnException(Storage::isOutage)
                .build());
    this.retry = retries.retry("storage");
    this.breakers =
        CircuitBreakerRegistry.of(
            CircuitBreakerConfig.custom()
                .slidingWindowSize(20)
                .minimumNumberOfCalls(10)
                .failureRateThreshold(50)
                .waitDurationInOpenState(breakerOpen)
                .recordException(Storage::isOutage)
                .build());
    this.breaker = breakers.circuitBreaker("storage");
    this.retryMetrics = TaggedRetryMetrics.ofRetryRegistry(retries);
    this.breakerMetrics = TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(breakers);
  }

  /**
   * Exports the retry's and the circuit breaker's state and calls (resilience4j's tagged meters).
   */
  @Override
  public void bindTo(MeterRegistry registry) {
    retryMetrics.bindTo(registry);
    breakerMetrics.bindTo(registry);
  }

  /**
   * Storage with Hadoop's default configuration (plus any {@code core-site.xml} on the classpath),
   * no root restriction.
   */
  public static Storage withDefaults() {
    return new Storage(HadoopSettings.of(Map.of()), AllowedRoots.any(), 3, Duration.ofMillis(200));
  }

  /**
   * Storage as the settings say: Hadoop's file-system settings ({@link HadoopSettings}), allowed
   * roots (with the archive, which the fleet writes itself: workers keep a retrieval run's
   * embeddings there) and retry attempts.
   */
  public static Storage of(FleetConfig config) {
    String roots = config.get(FleetConfig.ALLOWED_ROOTS);
    if (!roots.isBlank()) {
      roots = roots + "," + config.get(FleetConfig.ARCHIVE_ROOT);
    }
    return new Storage(
        HadoopSettings.of(config.hadoopProperties()),
        AllowedRoots.parse(roots),
        config.get(FleetConfig.STORAGE_ATTEMPTS),
        Duration.ofMillis(200),
        config.get(FleetConfig.STORAGE_BREAKER_OPEN));
  }

  /**
   * Storage as the settings say, but with no root restriction: for a client that names files in an
   * event (their digests), whose locations the fleet checks when it reads them. Without the
   * settings' {@code hadoop.*} keys, a store that needs them (an HDFS nameservice, an S3 endpoint)
   * could not be read.
   */
  public static Storage unrestricted(FleetConfig config) {
    return new Storage(
        HadoopSettings.of(config.hadoopProperties()),
        AllowedRoots.any(),
        config.get(FleetConfig.STORAGE_ATTEMPTS),
        Duration.ofMillis(200),
        config.get(FleetConfig.STORAGE_BREAKER_OPEN));
  }

  /** An I/O action on one location. */
  @FunctionalInterface
  public interface IoCall<T> {
    T call() throws IOException;
  }

  /**
   * Runs {@code action} on {@code uri} after the root check, with retry and circuit breaker. The
   * action must be safe to repeat.
   */
  public <T> T call(String uri, IoCall<T> action) throws IOException {
    roots.check(uri);
    try {
      CheckedSupplier<T> guarded = CircuitBreaker.decorateCheckedSupplier(breaker, action::call);
      return Retry.decorateCheckedSupplier(retry, guarded).get();
    } catch (CallNotPermittedException e) {
      throw new UnavailableException(
          "storage",
          "circuit breaker '"
              + breaker.getName()
              + "' is "
              + breaker.getState()
              + " after repeated failures; not reading "
              + uri,
          e);
    } catch (IOException e) {
      if (Failures.isAccessDenied(e) && !(e instanceof InputException)) {
        throw new InputException(
            "access denied to "
                + uri
                + ": the store refused the credentials, or they may not read it ("
                + e.getMessage()
                + ")",
            e);
      }
      if (Failures.isWithoutVersion(e) && !(e instanceof InputException)) {
        throw new InputException(
            "cannot read "
                + uri
                + ": the store gives no ETag or version for it, which S3A checks to notice an"
                + " object changing while it is read (a store that gives none: set"
                + " hadoop.fs.s3a.change.detection.version.required=false) ("
                + e.getMessage()
                + ")",
            e);
      }
      if (e instanceof UnavailableException || !isOutage(e)) {
        throw e;
      }
      throw new UnavailableException(
          "storage",
          "cannot read "
              + uri
              + " after "
              + retry.getRetryConfig().getMaxAttempts()
              + " attempts: "
              + e
              + pathStyleHint(uri, e),
          e);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable e) {
      throw new IOException("cannot read " + uri + ": " + e, e);
    }
  }

  /**
   * A hint when a host name that starts with the bucket's cannot be resolved: S3A addressed the
   * bucket as a virtual host ({@code bucket.endpoint}), which an S3-compatible store reached by IP
   * address or without wildcard DNS does not answer to. Empty otherwise.
   */
  static String pathStyleHint(String uri, Throwable e) {
    String bucket = URI.create(uri).getHost();
    for (Throwable t = e;
        bucket != null && t != null;
        t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof UnknownHostException
          && t.getMessage() != null
          && t.getMessage().startsWith(bucket + ".")) {
        return " (S3A asked for the bucket as the host "
            + t.getMessage()
            + ": an S3-compatible store addressed by a name without wildcard DNS needs"
            + " hadoop.fs.s3a.path.style.access=true)";
      }
    }
    return "";
  }

  /**
   * A failure of the store rather than of the file: retried, and counted by the circuit breaker.
   */
  private static boolean isOutage(Throwable e) {
    return e instanceof IOException && Failures.kindOf(e) == FailureKind.UNAVAILABLE;
  }

  public Retry retry() {
    return retry;
  }

  public CircuitBreaker circuitBreaker() {
    return breaker;
  }

  public Configuration conf() {
    return conf;
  }

  /**
   * The configuration to write {@code target} with. On the local file system that is the raw local
   * file system, so no Hadoop {@code .crc} side file is left beside what evalfleet writes (a folder
   * handed to other tools holds only the files); a side file an earlier write left is removed,
   * since it would no longer match. Other file systems keep no side files: {@link #conf()}
   * unchanged.
   */
  public Configuration writeConf(Path target) throws IOException {
    FileSystem fs = target.getFileSystem(conf);
    if (!(fs instanceof ChecksumFileSystem checksummed)) {
      return conf;
    }
    Path crc = checksummed.getChecksumFile(checksummed.makeQualified(target));
    checksummed.getRawFileSystem().delete(crc, false);
    return LocalFiles.raw(conf);
  }

  /**
   * Creates (or overwrites) {@code target} as {@link #writeConf} says: without a {@code .crc} side
   * file.
   */
  public OutputStream create(Path target) throws IOException {
    return target.getFileSystem(writeConf(target)).create(target, true);
  }

  public static Path path(String uri) {
    return new Path(URI.create(uri));
  }

  /**
   * The file's size in bytes; throws {@link FileNotFoundException} naming the URI if it is missing.
   */
  public long size(String uri) throws IOException {
    return call(uri, () -> rawSize(uri));
  }

  private long rawSize(String uri) throws IOException {
    return rawStatus(uri).getLen();
  }

  private FileStatus rawStatus(String uri) throws IOException {
    Path path = path(uri);
    FileStatus status = statusOf(path.getFileSystem(conf), path, uri);
    if (status.isDirectory()) {
      throw new FileNotFoundException("is a directory, not a file: " + uri);
    }
    return status;
  }

  public InputStream open(String uri) throws IOException {
    return call(uri, () -> rawOpen(uri));
  }

  private InputStream rawOpen(String uri) throws IOException {
    Path path = path(uri);
    FileSystem fs = path.getFileSystem(conf);
    statusOf(fs, path, uri);
    return fs.open(path);
  }

  /**
   * The file's status; a missing file throws {@link FileNotFoundException} naming the URI, and
   * saying so when its whole bucket is missing.
   */
  private static FileStatus statusOf(FileSystem fs, Path path, String uri) throws IOException {
    try {
      return fs.getFileStatus(path);
    } catch (IOException e) {
      if (!Failures.isMissingFile(e)) {
        throw e;
      }
      String why =
          Failures.isMissingStore(e)
              ? " (the bucket it names does not exist: " + e.getMessage() + ")"
              : "";
      FileNotFoundException missing = new FileNotFoundException("no such file: " + uri + why);
      missing.initCause(e);
      throw missing;
    }
  }

  /** The sha256 of the file's bytes, as 64 lower-case hex characters, computed while streaming. */
  public String sha256(String uri) throws IOException {
    return call(
        uri,
        () -> {
          try (InputStream in = new DigestInputStream(rawOpen(uri), newDigest())) {
            in.transferTo(OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
          }
        });
  }

  /**
   * Checks the file's digest; throws {@link DigestMismatchException} naming both digests. A file
   * already verified is not read again while its length and modification time are unchanged: a
   * burst of events staging the same large model hashes it once.
   */
  public void verify(String uri, String expectedSha256) throws IOException {
    String stamp =
        call(
            uri,
            () -> {
              FileStatus status = rawStatus(uri);
              return uri + "|" + status.getLen() + "|" + status.getModificationTime();
            });
    if (expectedSha256.equals(verified.getIfPresent(stamp))) {
      return;
    }
    String actual = sha256(uri);
    if (!actual.equals(expectedSha256)) {
      throw new DigestMismatchException(uri, expectedSha256, actual);
    }
    verified.put(stamp, actual);
  }

  public static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
