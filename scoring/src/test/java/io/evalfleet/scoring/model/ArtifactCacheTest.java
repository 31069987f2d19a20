package io.evalfleet.scoring.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.storage.AllowedRoots;
import io.evalfleet.common.storage.DigestMismatchException;
import io.evalfleet.common.storage.Storage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArtifactCacheTest {
  static final Path FIXTURES = Path.of("..", "fixtures", "causal-lm").toAbsolutePath().normalize();

  @TempDir Path dir;
  final Storage storage =
      new Storage(
          RemoteDiskFileSystem.configuration(), AllowedRoots.any(), 2, Duration.ofMillis(1));

  /** A remote artifact of {@code size} bytes with its real digest. */
  ArtifactRef remoteFile(String name, int size) throws Exception {
    Path file = Files.createDirectories(dir.resolve("bucket")).resolve(name);
    byte[] bytes = new byte[size];
    new java.util.Random(name.hashCode()).nextBytes(bytes);
    Files.write(file, bytes);
    return new ArtifactRef(
        RemoteDiskFileSystem.uriOf(file), storage.sha256(file.toUri().toString()));
  }

  /**
   * bytegpt-base saved by ONNX Runtime with its weights in an external data file, {@code
   * weights.bin}.
   */
  Path modelWithExternalData() throws Exception {
    Path out = Files.createDirectories(dir.resolve("bucket")).resolve("bytegpt-external.onnx");
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.BASIC_OPT);
      options.setOptimizedModelFilePath(out.toString());
      options.addConfigEntry(
          "session.optimized_model_external_initializers_file_name", "weights.bin");
      options.addConfigEntry(
          "session.optimized_model_external_initializers_min_size_in_bytes", "1024");
      OrtEnvironment.getEnvironment()
          .createSession(FIXTURES.resolve("bytegpt-base.onnx").toString(), options)
          .close();
    }
    assertThat(out.resolveSibling("weights.bin"))
        .as("ONNX Runtime wrote the external data")
        .exists();
    assertThat(Files.size(out))
        .as("the weights left the model file")
        .isLessThan(Files.size(out.resolveSibling("weights.bin")));
    return out;
  }

  ArtifactRef remote(Path local, List<ArtifactRef> externalData) throws Exception {
    return new ArtifactRef(
        RemoteDiskFileSystem.uriOf(local), storage.sha256(local.toUri().toString()), externalData);
  }

  @Test
  void remoteModelWithExternalDataIsCachedBesideItAndLoads() throws Exception {
    Path model = modelWithExternalData();
    ArtifactRef weights = remote(model.resolveSibling("weights.bin"), List.of());
    ArtifactRef ref = remote(model, List.of(weights));
    ArtifactCache cache = new ArtifactCache(storage, dir.resolve("cache"), Long.MAX_VALUE);
    try (ArtifactCache.Use use = cache.acquire(ref)) {
      assertThat(use.path())
          .isEqualTo(dir.resolve("cache").resolve(ref.sha256()).resolve("bytegpt-external.onnx"));
      assertThat(use.path().resolveSibling("weights.bin"))
          .hasSameBinaryContentAs(model.resolveSibling("weights.bin"));
      try (OrtSession session =
          OrtEnvironment.getEnvironment().createSession(use.path().toString())) {
        assertThat(session.getOutputInfo()).containsKey("logits");
      }
    }
    assertThat(cache.bytes())
        .isEqualTo(Files.size(model) + Files.size(model.resolveSibling("weights.bin")));
    cache.acquire(ref).close();
    assertThat(cache.fetches()).isEqualTo(1);
    assertThat(cache.hits()).isEqualTo(1);
  }

  @Test
  void externalDataWithTheWrongDigestLeavesNothingUsable() throws Exception {
    Path model = modelWithExternalData();
    ArtifactRef wrong =
        new ArtifactRef(
            RemoteDiskFileSystem.uriOf(model.resolveSibling("weights.bin")), "0".repeat(64));
    ArtifactCache cache = new ArtifactCache(storage, dir.resolve("cache"), Long.MAX_VALUE);
    assertThatThrownBy(() -> cache.acquire(remote(model, List.of(wrong))))
        .isInstanceOf(DigestMismatchException.class)
        .hasMessageContaining("weights.bin");
    try (Stream<Path> left = Files.walk(dir.resolve("cache"))) {
      assertThat(left.filter(Files::isRegularFile)).as("files left in the cache").isEmpty();
    }
    assertThat(cache.entries()).isZero();
  }

  @Test
  void localExternalDataMustLieBesideItsModel() throws Exception {
    Path model = modelWithExternalData();
    Path elsewhere = Files.createDirectories(dir.resolve("elsewhere")).resolve("weights.bin");
    Files.copy(model.resolveSibling("weights.bin"), elsewhere);
    String uri = elsewhere.toUri().toString();
    ArtifactRef ref =
        new ArtifactRef(
            model.toUri().toString(),
            storage.sha256(model.toUri().toString()),
            List.of(new ArtifactRef(uri, storage.sha256(uri))));
    ArtifactCache cache = new ArtifactCache(storage, dir.resolve("cache"), Long.MAX_VALUE);
    assertThatThrownBy(() -> cache.acquire(ref))
        .as("bad input, not a missing file")
        .isInstanceOf(io.evalfleet.common.failure.InputException.class)
        .hasMessageContaining("must lie beside its model");
  }

  @Test
  void leastRecentlyUsedEntriesAreEvictedToStayWithinTheByteBoundButNeverOneInUse()
      throws Exception {
    ArtifactRef a = remoteFile("a.onnx", 4000);
    ArtifactRef b = remoteFile("b.onnx", 4000);
    ArtifactRef c = remoteFile("c.onnx", 4000);
    ArtifactCache cache = new ArtifactCache(storage, dir.resolve("cache"), 9000);
    cache.acquire(a).close();
    cache.acquire(b).close();
    cache.acquire(a).close(); // a is now more recent than b
    cache.acquire(c).close();
    assertThat(cache.evictions()).isEqualTo(1);
    assertThat(dir.resolve("cache").resolve(b.sha256()))
        .as("b, least recently used")
        .doesNotExist();
    assertThat(dir.resolve("cache").resolve(a.sha256())).exists();
    assertThat(cache.bytes()).isEqualTo(8000);

    try (ArtifactCache.Use holdA = cache.acquire(a);
        ArtifactCache.Use holdC = cache.acquire(c)) {
      cache
          .acquire(b)
          .close(); // over the bound, but a and c are in use: b itself is the only idle one
      assertThat(holdA.path()).exists();
      assertThat(holdC.path()).exists();
    }
    assertThat(cache.bytes()).isLessThanOrEqualTo(9000);
  }

  @Test
  void entriesSurviveARestartAndTheBoundAppliesToThem() throws Exception {
    ArtifactRef a = remoteFile("a.onnx", 4000);
    ArtifactRef b = remoteFile("b.onnx", 4000);
    ArtifactCache first = new ArtifactCache(storage, dir.resolve("cache"), Long.MAX_VALUE);
    first.acquire(a).close();
    first.acquire(b).close();
    Files.createDirectories(dir.resolve("cache").resolve(".incoming").resolve("half-done"));

    ArtifactCache second = new ArtifactCache(storage, dir.resolve("cache"), Long.MAX_VALUE);
    assertThat(second.entries()).isEqualTo(2);
    assertThat(second.bytes()).isEqualTo(8000);
    assertThat(dir.resolve("cache").resolve(".incoming"))
        .as("unfinished downloads are cleared")
        .doesNotExist();
    second.acquire(a).close();
    assertThat(second.fetches()).as("served from disk, not fetched again").isZero();

    ArtifactCache smaller = new ArtifactCache(storage, dir.resolve("cache"), 5000);
    assertThat(smaller.entries()).isEqualTo(1);
  }
}
