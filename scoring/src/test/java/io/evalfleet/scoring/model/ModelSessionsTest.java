package io.evalfleet.scoring.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.scoring.ScoringException;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelSessionsTest {
  @TempDir Path dir;

  static ArtifactRef fixture(String name) throws Exception {
    String uri = ArtifactCacheTest.FIXTURES.resolve(name).toUri().toString();
    return new ArtifactRef(uri, Storage.withDefaults().sha256(uri));
  }

  ModelSessions sessions(int concurrentLoads, int maxLoaded) {
    return new ModelSessions(
        new ArtifactCache(Storage.withDefaults(), dir, Long.MAX_VALUE),
        1,
        ExecutionProvider.CPU,
        concurrentLoads,
        maxLoaded);
  }

  @Test
  void leastRecentlyUsedIdleSessionIsClosedToStayWithinTheLimitButNotOneInUse() throws Exception {
    ArtifactRef base = fixture("bytegpt-base.onnx");
    ArtifactRef tuned = fixture("bytegpt-finetuned.onnx");
    ArtifactRef uniform = fixture("uniform-v256.onnx");
    try (ModelSessions sessions = sessions(1, 1)) {
      try (ModelSessions.Lease holdBase = sessions.lease(base)) {
        try (ModelSessions.Lease holdTuned = sessions.lease(tuned)) {
          assertThat(sessions.loaded())
              .as("both held: over the limit, nothing closed")
              .isEqualTo(2);
        }
        assertThat(sessions.loaded()).isEqualTo(1);
        assertThat(sessions.sessionsClosed()).isEqualTo(1);
        // the held session still runs
        assertThat(holdBase.model().session().getInputNames()).contains("input_ids");
      }
      sessions.lease(uniform).close();
      assertThat(sessions.loaded()).isEqualTo(1);
      assertThat(sessions.sessionsClosed()).isEqualTo(2);
    }
  }

  @Test
  void jobsWantingTheSameModelAtOnceShareOneLoad() throws Exception {
    ArtifactRef base = fixture("bytegpt-base.onnx");
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try (ModelSessions sessions = sessions(2, 4)) {
      Callable<ModelSessions.Lease> lease = () -> sessions.lease(base);
      List<Future<ModelSessions.Lease>> leases =
          pool.invokeAll(List.of(lease, lease, lease, lease));
      LoadedModel first = leases.get(0).get().model();
      for (Future<ModelSessions.Lease> held : leases) {
        assertThat(held.get().model()).isSameAs(first);
        held.get().close();
      }
      assertThat(sessions.loaded()).isEqualTo(1);
      assertThat(sessions.loadBulkhead().getBulkheadConfig().getMaxConcurrentCalls()).isEqualTo(2);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void boundToARegistryItExportsTheCatalogueMetersAndCountsLoadsThereByOutcome() throws Exception {
    MeterRegistry registry = new SimpleMeterRegistry();
    try (ModelSessions sessions = sessions(1, 2)) {
      sessions.bindTo(registry);
      assertThat(registry.get("evalfleet.model.loads").tag("outcome", "loaded").timer().count())
          .isZero();
      assertThat(registry.get("evalfleet.execution.provider.fallbacks").counter().count()).isZero();
      assertThat(
              registry
                  .find("resilience4j.bulkhead.max.allowed.concurrent.calls")
                  .tag("name", "model-loads")
                  .gauge())
          .isNotNull();

      sessions.lease(fixture("bytegpt-base.onnx")).close();
      try {
        sessions
            .lease(new ArtifactRef(dir.resolve("missing.onnx").toUri().toString(), "0".repeat(64)))
            .close();
      } catch (ScoringException expected) {
        // counted as a failed load
      }

      assertThat(registry.get("evalfleet.model.loads").tag("outcome", "loaded").timer().count())
          .isEqualTo(1);
      assertThat(registry.get("evalfleet.model.loads").tag("outcome", "failed").timer().count())
          .isEqualTo(1);
      assertThat(
              registry
                  .get("evalfleet.model.sessions.loaded")
                  .tag("provider", "cpu")
                  .counter()
                  .count())
          .isEqualTo(1);
      assertThat(registry.get("evalfleet.model.sessions").gauge().value()).isEqualTo(1);
    }
  }
}
