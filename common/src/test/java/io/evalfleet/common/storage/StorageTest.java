package io.evalfleet.common.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.failure.FailureKind;
import io.evalfleet.common.failure.Failures;
import io.evalfleet.common.failure.UnavailableException;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StorageTest {
  @TempDir Path dir;

  Storage storage(String roots) {
    return new Storage(new Configuration(), AllowedRoots.parse(roots), 3, Duration.ofMillis(1));
  }

  /**
   * A viewfs mount table stands for any store that only its settings make reachable (an HDFS
   * nameservice, an S3 endpoint).
   */
  @Test
  void aClientsStorageReadsThroughTheHadoopSettingsAndChecksNoRoots() throws Exception {
    Path models = Files.createDirectories(dir.resolve("models"));
    Files.writeString(models.resolve("m.onnx"), "abc");
    FleetConfig config =
        FleetConfig.defaults()
            .with(
                Map.of(
                    "hadoop.fs.viewfs.mounttable.staged.link./models",
                    models.toUri().toString(),
                    FleetConfig.ALLOWED_ROOTS.key(),
                    "s3a://elsewhere/"));
    String uri = "viewfs://staged/models/m.onnx";
    // First: Hadoop caches a file system by scheme and authority, whatever configuration made it.
    assertThatThrownBy(() -> Storage.withDefaults().sha256(uri))
        .as("without the settings there is no mount table")
        .isInstanceOf(IOException.class);
    assertThat(Storage.unrestricted(config).sha256(uri))
        .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assertThatThrownBy(() -> Storage.of(config).sha256(uri))
        .isInstanceOf(AccessDeniedException.class);
  }

  @Test
  void transientFailuresAreRetriedAndFinalOnesAreNot() throws Exception {
    Storage storage = storage("");
    AtomicInteger calls = new AtomicInteger();
    String value =
        storage.call(
            "file:///x",
            () -> {
              if (calls.incrementAndGet() < 3) {
                throw new IOException("connection reset");
              }
              return "ok";
            });
    assertThat(value).isEqualTo("ok");
    assertThat(calls).hasValue(3);

    calls.set(0);
    assertThatThrownBy(
            () ->
                storage.call(
                    "file:///x",
                    () -> {
                      calls.incrementAndGet();
                      throw new FileNotFoundException("no such file: file:///x");
                    }))
        .isInstanceOf(FileNotFoundException.class);
    assertThat(calls).as("a missing file is final").hasValue(1);
  }

  @Test
  void refusedAccessIsFinalBadInputNamingTheLocation() {
    Storage storage = storage("");
    AtomicInteger calls = new AtomicInteger();
    Throwable thrown =
        catchThrowable(
            () ->
                storage.call(
                    "s3a://bucket1/dir/model.onnx",
                    () -> {
                      calls.incrementAndGet();
                      throw new java.nio.file.AccessDeniedException(
                          "s3a://bucket1/dir/model.onnx",
                          null,
                          "getFileStatus on s3a://bucket1/dir/model.onnx: S3Exception: Forbidden");
                    }));
    assertThat(calls).as("not retried").hasValue(1);
    assertThat(Failures.kindOf(thrown)).isEqualTo(FailureKind.BAD_INPUT);
    assertThat(thrown)
        .hasMessageStartingWith("access denied to s3a://bucket1/dir/model.onnx")
        .hasMessageContaining("Forbidden");
    assertThat(storage.circuitBreaker().getMetrics().getNumberOfFailedCalls())
        .as("a refusal is no outage")
        .isZero();
  }

  @Test
  void circuitBreakerOpensWhenStorageKeepsFailing() {
    Storage storage = storage("");
    assertThatThrownBy(
            () ->
                storage.call(
                    "hdfs://nn/x",
                    () -> {
                      throw new java.net.ConnectException("namenode down");
                    }))
        .isInstanceOf(UnavailableException.class)
        .hasMessageContaining("storage unavailable")
        .hasMessageContaining("after 3 attempts")
        .hasMessageContaining("namenode down");
    for (int i = 0; i < 10; i++) {
      assertThatThrownBy(
              () ->
                  storage.call(
                      "hdfs://nn/x",
                      () -> {
                        throw new java.net.ConnectException("namenode down");
                      }))
          .isInstanceOf(UnavailableException.class);
    }
    AtomicInteger calls = new AtomicInteger();
    assertThatThrownBy(() -> storage.call("hdfs://nn/x", () -> calls.incrementAndGet()))
        .isInstanceOf(UnavailableException.class)
        .hasMessageContaining("storage unavailable")
        .hasMessageContaining("circuit breaker 'storage' is OPEN");
    assertThat(calls).as("an open breaker does not call storage").hasValue(0);
    assertThat(Failures.kindOf(catchThrowable(() -> storage.call("hdfs://nn/x", () -> 1))))
        .as("an open breaker is an unavailable dependency, not bad input")
        .isEqualTo(FailureKind.UNAVAILABLE);
  }

  @Test
  void locationsOutsideTheAllowedRootsAreDenied() throws Exception {
    Path models = Files.createDirectories(dir.resolve("models"));
    Path file = Files.writeString(models.resolve("m.onnx"), "x");
    Path sibling = Files.writeString(dir.resolve("models2.onnx"), "x");
    Storage storage = storage(models.toUri().toString() + ", s3a://bucket/staged");
    assertThat(storage.size(file.toUri().toString())).isEqualTo(1);
    assertThatThrownBy(() -> storage.size(sibling.toUri().toString()))
        .isInstanceOf(AccessDeniedException.class)
        .hasMessageContaining("outside the allowed storage roots");
    assertThatThrownBy(() -> storage.size("file://" + models + "/../models2.onnx"))
        .isInstanceOf(AccessDeniedException.class);
    assertThatThrownBy(() -> storage.size("/etc/passwd")).isInstanceOf(AccessDeniedException.class);
    assertThatThrownBy(() -> storage.size("s3a://other/staged/m.onnx"))
        .isInstanceOf(AccessDeniedException.class);
    AllowedRoots.parse("s3a://bucket/staged").check("s3a://bucket/staged/run-1/m.onnx");
  }

  @Test
  void aFileChangedAfterVerificationIsVerifiedAgain() throws Exception {
    Storage storage = storage("");
    Path file = dir.resolve("model.onnx");
    Files.writeString(file, "weights v1");
    String uri = file.toUri().toString();
    String v1 = storage.sha256(uri);
    storage.verify(uri, v1);
    storage.verify(uri, v1); // served from what was verified

    Files.writeString(file, "weights v2, longer");
    assertThatThrownBy(() -> storage.verify(uri, v1)).isInstanceOf(DigestMismatchException.class);
    Files.delete(file);
    assertThatThrownBy(() -> storage.verify(uri, v1))
        .isInstanceOf(FileNotFoundException.class)
        .hasMessageContaining("no such file");
  }

  @Test
  void boundToARegistryItExportsTheRetryAndTheCircuitBreaker() {
    MeterRegistry registry = new SimpleMeterRegistry();
    storage("").bindTo(registry);
    assertThat(registry.find("resilience4j.retry.calls").tag("name", "storage").functionCounters())
        .isNotEmpty();
    assertThat(registry.find("resilience4j.circuitbreaker.state").tag("name", "storage").gauges())
        .isNotEmpty();
  }

  @Test
  void aBucketAskedForAsAVirtualHostThatDoesNotResolveGetsThePathStyleHint() {
    IOException unresolved =
        new IOException("getFileStatus", new java.net.UnknownHostException("models.localhost"));
    assertThat(Storage.pathStyleHint("s3a://models/m/model.onnx", unresolved))
        .contains("hadoop.fs.s3a.path.style.access=true")
        .contains("models.localhost");
    assertThat(Storage.pathStyleHint("s3a://other/m/model.onnx", unresolved)).isEmpty();
    assertThat(Storage.pathStyleHint("file:///m/model.onnx", unresolved)).isEmpty();
  }
}
