package io.evalfleet.dispatcher.topology;

import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.task.Task;
import io.evalfleet.dispatcher.decision.PolicyFile;
import io.evalfleet.dispatcher.preflight.Preflight;
import io.evalfleet.dispatcher.run.FirstVersions;
import io.evalfleet.dispatcher.run.RunState;
import io.evalfleet.dispatcher.run.ShardState;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * One step's surroundings without a topology: a mock processor context holding in-memory stores
 * (the ones the dispatch processor declares), a run book over them, and the shared settings (shards
 * of 10 rows, at most 2 jobs in flight per run and 3 per task).
 */
final class StepBench {
  static final Instant START = Instant.parse("2026-01-01T00:00:00Z");
  static final String SHA = "a".repeat(64);

  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  final MockProcessorContext<String, byte[]> context = new MockProcessorContext<>();
  final Dispatching dispatching;
  final RunBook book;

  StepBench(Path dir) {
    FleetConfig config =
        FleetConfig.defaults()
            .with(
                Map.of(
                    FleetConfig.SHARD_ROWS.key(),
                    "10",
                    FleetConfig.MAX_IN_FLIGHT_PER_RUN.key(),
                    "2",
                    FleetConfig.MAX_IN_FLIGHT.key(),
                    "3",
                    FleetConfig.JOB_TIMEOUT.key(),
                    "PT30S",
                    FleetConfig.RUN_DEADLINE.key(),
                    "PT10M",
                    FleetConfig.ARCHIVE_ROOT.key(),
                    dir.resolve("archive").toUri().toString()));
    Storage storage = Storage.of(config);
    dispatching =
        new Dispatching(
            config,
            new Preflight(storage),
            new EvaluationArchive(storage, config.get(FleetConfig.ARCHIVE_ROOT)),
            PolicyFile.defaults(),
            registry,
            Runnable::run,
            Duration.ofSeconds(1));
    context.setCurrentSystemTimeMs(START.toEpochMilli());
    store(DispatcherTopology.RUNS, RunState.SERDE);
    store(DispatcherTopology.SHARDS, ShardState.SERDE);
    store(DispatcherTopology.SHARD_RESULTS, DispatcherTopology.SHARD_RESULT_SERDE);
    store(DispatcherTopology.BASELINES, DispatcherTopology.BASELINE_SERDE);
    store(DispatcherTopology.FIRST_VERSIONS, FirstVersions.SERDE);
    store(DispatcherTopology.DECIDED, Serdes.Long());
    book = new RunBook(context, dispatching);
  }

  private <V> void store(String name, Serde<V> values) {
    KeyValueStore<String, V> store =
        Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(name), Serdes.String(), values)
            .withLoggingDisabled()
            .build();
    store.init(context.getStateStoreContext(), store);
    context.addStateStore(store);
  }

  static StagedWeightEvent event(String model, String version) {
    return StagedWeightEvent.builder()
        .eventId("ev-" + model + "-" + version)
        .model(model)
        .version(version)
        .task(Task.EMBEDDING)
        .artifact(new ArtifactRef("file:///models/" + model + "-" + version + ".onnx", SHA))
        .tokenizer(new ArtifactRef("file:///models/tokenizer.json", SHA))
        .goldenSubset(new SubsetRef("file:///subsets/golden.parquet", SHA, "v1", Map.of()))
        .commit("commit-" + version)
        .createdAt(START)
        .build();
  }

  /** A run scoring {@code shards} shards of 10 rows, stored with its shards planned. */
  RunState scoringRun(String model, String version, int shards) {
    RunState run =
        new RunState(event(model, version), START, START.plus(Duration.ofMinutes(10)), null);
    run.planned(shards, shards * 10L);
    for (int i = 0; i < shards; i++) {
      book.saveShard(ScoringJob.jobId(run.runId(), i), new ShardState(i, i * 10L, 10));
    }
    book.save(run);
    return run;
  }

  /** Publishes the run's next shard as a worker would receive it (the way flow control does). */
  ShardState send(RunState run) {
    int index = run.takeNextShard();
    ShardState shard = book.shard(ScoringJob.jobId(run.runId(), index));
    shard.sent(1, book.now());
    book.saveShard(ScoringJob.jobId(run.runId(), index), shard);
    book.save(run);
    return shard;
  }

  void advance(Duration by) {
    context.setCurrentSystemTimeMs(context.currentSystemTimeMs() + by.toMillis());
  }

  /** The records forwarded to {@code sink}, oldest first. */
  List<Record<String, byte[]>> forwarded(String sink) {
    return context.forwarded().stream()
        .filter(f -> f.childName().filter(sink::equals).isPresent())
        .map(
            f ->
                new Record<String, byte[]>(
                    f.record().key(),
                    f.record().value(),
                    f.record().timestamp(),
                    f.record().headers()))
        .toList();
  }

  <T> List<T> forwarded(String sink, Class<T> type) {
    return forwarded(sink).stream().map(r -> Json.read(r.value(), type)).toList();
  }

  double count(String meter) {
    var counter = registry.find(meter).counter();
    return counter == null ? 0 : counter.count();
  }
}
