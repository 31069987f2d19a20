package io.evalfleet.laptop.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.storage.AllowedRoots;
import io.evalfleet.common.storage.DigestMismatchException;
import io.evalfleet.common.storage.HadoopSettings;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.laptop.bench.StorageBench;
import io.evalfleet.laptop.embedded.LocalS3;
import io.evalfleet.scoring.model.ArtifactCache;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker's model cache against a real S3 endpoint: a model is fetched once per digest however
 * many jobs ask for it, hashed while it streams, and a download that breaks off or brings the wrong
 * bytes leaves nothing that could be used; the next job fetches it whole.
 */
class ArtifactFetchIT {
  static final Path MODEL =
      Path.of("..", "fixtures", "causal-lm", "bytegpt-base.onnx").toAbsolutePath().normalize();

  @TempDir Path dir;
  LocalS3 s3;
  Storage storage;
  Path cacheRoot;

  @BeforeEach
  void start() throws Exception {
    s3 = LocalS3.start(dir.resolve("s3"));
    storage =
        new Storage(
            HadoopSettings.of(s3.hadoopSettings()), AllowedRoots.any(), 2, Duration.ofMillis(100));
    cacheRoot = dir.resolve("cache");
  }

  @AfterEach
  void stop() throws Exception {
    FileSystem.closeAll();
    s3.close();
  }

  @Test
  void manyJobsOfOneModelFetchItOnceWholeAndItLoads() throws Exception {
    String uri = s3.upload(MODEL, "models", "bytegpt/base.onnx");
    ArtifactRef ref = new ArtifactRef(uri, storage.sha256(MODEL.toUri().toString()));
    ArtifactCache cache = new ArtifactCache(storage, cacheRoot, 1L << 30);
    s3.resetCounts();

    ExecutorService jobs = Executors.newFixedThreadPool(4);
    try {
      List<Future<Path>> uses = new ArrayList<>();
      for (int job = 0; job < 40; job++) {
        uses.add(
            jobs.submit(
                () -> {
                  try (ArtifactCache.Use use = cache.acquire(ref)) {
                    return use.path();
                  }
                }));
      }
      for (Future<Path> use : uses) {
        assertThat(use.get()).hasSameBinaryContentAs(MODEL);
      }
    } finally {
      jobs.shutdownNow();
    }

    long size = Files.size(MODEL);
    assertThat(cache.fetches()).isEqualTo(1);
    assertThat(cache.hits()).isEqualTo(39);
    assertThat(getBytes("models", "bytegpt/base.onnx", size))
        .as("bytes asked for the model")
        .isBetween(size, size + size / 10);
    try (ArtifactCache.Use use = cache.acquire(ref);
        OrtSession session = OrtEnvironment.getEnvironment().createSession(use.path().toString())) {
      assertThat(session.getInputNames()).isNotEmpty();
    }
  }

  @Test
  void aCorruptedObjectIsRefusedAndLeavesNothingThenTheRightBytesAreFetched() throws Exception {
    Path good = randomFile("good.bin", 4 << 20, 1);
    Path bad = Files.copy(good, dir.resolve("bad.bin"));
    byte[] bytes = Files.readAllBytes(bad);
    bytes[bytes.length / 2] ^= 1; // one flipped bit, same length
    Files.write(bad, bytes);
    String uri = s3.upload(bad, "models", "weights.bin");
    ArtifactRef ref = new ArtifactRef(uri, storage.sha256(good.toUri().toString()));
    ArtifactCache cache = new ArtifactCache(storage, cacheRoot, 1L << 30);
    s3.resetCounts();

    assertThatThrownBy(() -> cache.acquire(ref))
        .isInstanceOf(DigestMismatchException.class)
        .hasMessageContaining(ref.sha256());
    assertThat(usableEntries()).isEmpty();
    // Hashed while it streamed: the object was read once, not again to check it.
    assertThat(getBytes("models", "weights.bin", bytes.length)).isEqualTo(bytes.length);

    s3.upload(good, "models", "weights.bin");
    try (ArtifactCache.Use use = cache.acquire(ref)) {
      assertThat(use.path()).hasSameBinaryContentAs(good);
    }
    assertThat(cache.fetches()).isEqualTo(1);
  }

  @Test
  void aDownloadCutOffByTheEndpointLeavesNothingAndTheNextJobFetchesItWhole() throws Exception {
    long size = 48L << 20;
    Path model = randomFile("large.bin", (int) size, 2);
    String uri = s3.upload(model, "models", "large.bin");
    ArtifactRef ref = new ArtifactRef(uri, storage.sha256(model.toUri().toString()));
    ArtifactCache cache = new ArtifactCache(storage, cacheRoot, 1L << 30);
    s3.resetCounts();

    // The endpoint goes away once the download is under way; never waits past the download.
    AtomicBoolean downloading = new AtomicBoolean(true);
    AtomicBoolean cut = new AtomicBoolean();
    Thread cutter =
        new Thread(
            () -> {
              try {
                while (downloading.get() && s3.bytesSent() < (2 << 20)) {
                  Thread.sleep(1);
                }
                if (downloading.get()) {
                  s3.stop();
                  cut.set(true);
                }
              } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
              }
            });
    cutter.start();
    Throwable failure;
    try {
      failure = catchThrowable(() -> cache.acquire(ref).close());
    } finally {
      downloading.set(false);
      cutter.join();
    }
    assertThat(cut)
        .as(
            "the endpoint stopped mid-download (%,d bytes sent; the download ended with %s)",
            s3.bytesSent(), failure)
        .isTrue();
    assertThat(failure).isInstanceOf(IOException.class);
    assertThat(s3.bytesSent()).as("the download broke off").isLessThan(size);
    assertThat(usableEntries()).isEmpty();
    assertThat(cache.fetches()).isZero();

    s3.start();
    s3.resetCounts();
    try (ArtifactCache.Use use = cache.acquire(ref)) {
      assertThat(use.path()).hasSameBinaryContentAs(model);
    }
    assertThat(cache.fetches()).isEqualTo(1);
    assertThat(getBytes("models", "large.bin", size)).isBetween(size, size + size / 10);
  }

  /** What the cache directory holds that a job could use: entries named by a digest. */
  private List<Path> usableEntries() throws IOException {
    if (!Files.exists(cacheRoot)) {
      return List.of();
    }
    try (Stream<Path> files = Files.walk(cacheRoot)) {
      return files
          .filter(Files::isRegularFile)
          .filter(f -> !cacheRoot.relativize(f).toString().startsWith("."))
          .toList();
    }
  }

  private long getBytes(String bucket, String key, long size) {
    return s3.requestsFor(bucket, key).stream()
        .filter(r -> r.method().equals("GET"))
        .mapToLong(r -> StorageBench.requestedBytes(r, size))
        .sum();
  }

  private Path randomFile(String name, int size, long seed) throws IOException {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return Files.write(dir.resolve(name), bytes);
  }
}
