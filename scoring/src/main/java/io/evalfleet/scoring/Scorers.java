package io.evalfleet.scoring;

import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.scoring.embedding.EmbeddingScorer;
import io.evalfleet.scoring.model.ArtifactCache;
import io.evalfleet.scoring.model.ExecutionProvider;
import io.evalfleet.scoring.model.ModelSessions;
import io.evalfleet.scoring.perplexity.CausalLmScorer;
import io.evalfleet.scoring.retrieval.EmbeddingFiles;
import io.evalfleet.scoring.retrieval.RetrievalScorer;
import io.evalfleet.scoring.subset.SubsetReader;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

/**
 * What jobs are scored with, built from the fleet's configuration alone: storage, the model cache
 * and sessions, the subset reader and one scorer per task behind a {@link ShardScorer}. A worker
 * builds it once; a job scored in a process of its own builds the same from the same settings. Owns
 * the model sessions and closes them.
 */
public final class Scorers implements AutoCloseable {
  private final ModelSessions sessions;
  private final ShardScorer scorer;

  private Scorers(ModelSessions sessions, ShardScorer scorer) {
    this.sessions = sessions;
    this.scorer = scorer;
  }

  /**
   * @param cacheDir the model cache's directory; two processes never share one (a cache clears
   *     unfinished downloads when it opens)
   * @param registry where storage and model meters go
   */
  public static Scorers build(
      FleetConfig config, String workerId, Path cacheDir, MeterRegistry registry) {
    Storage storage = Storage.of(config);
    storage.bindTo(registry);
    ModelSessions sessions =
        new ModelSessions(
            new ArtifactCache(storage, cacheDir, config.get(FleetConfig.CACHE_MAX_BYTES)),
            config.get(FleetConfig.INTRA_OP_THREADS),
            ExecutionProvider.parse(config.get(FleetConfig.EXECUTION_PROVIDER)),
            config.get(FleetConfig.CONCURRENT_MODEL_LOADS),
            config.get(FleetConfig.MAX_LOADED_MODELS),
            config.get(FleetConfig.DETERMINISTIC_COMPUTE));
    sessions.bindTo(registry);
    SubsetReader subsets = new SubsetReader(storage);
    int batchSize = config.get(FleetConfig.BATCH_SIZE);
    // One scorer per task: the router sends each job to the scorer of its task.
    EmbeddingScorer embeddings =
        new EmbeddingScorer(sessions, subsets, batchSize, config.get(FleetConfig.MAX_SEQ_LEN));
    ShardScorer scorer =
        new ShardScorer(
            List.of(
                embeddings,
                new CausalLmScorer(
                    sessions, subsets, batchSize, config.get(FleetConfig.LOGITS_BUDGET)),
                // Corpora kept between query jobs: a quarter of the heap.
                new RetrievalScorer(
                    sessions,
                    subsets,
                    embeddings,
                    new EmbeddingFiles(storage),
                    config.get(FleetConfig.MAX_SEQ_LEN),
                    Runtime.getRuntime().maxMemory() / 4)),
            workerId,
            Clock.systemUTC(),
            new ShardScorer.SessionSetup(
                config.get(FleetConfig.INTRA_OP_THREADS),
                config.get(FleetConfig.DETERMINISTIC_COMPUTE),
                batchSize));
    return new Scorers(sessions, scorer);
  }

  /** Routes each job to its task's scorer; thread-safe. */
  public ShardScorer scorer() {
    return scorer;
  }

  /** Closes the model sessions. */
  @Override
  public void close() {
    sessions.close();
  }
}
