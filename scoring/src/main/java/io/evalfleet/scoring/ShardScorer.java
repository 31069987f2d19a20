package io.evalfleet.scoring;

import io.evalfleet.common.contract.ScoringEnvelope;
import io.evalfleet.common.contract.ScoringEnvironment;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardError;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.failure.FailureKind;
import io.evalfleet.common.task.Task;
import io.evalfleet.scoring.model.Machine;
import java.time.Clock;
import java.util.Collection;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

/**
 * Routes each {@link ScoringJob} to the {@link TaskScorer} of its task and always answers with a
 * {@link ShardResult}: per-row values on success, a {@link ShardError} with its failure kind
 * otherwise. A scorer that returns fewer values than its task's spec promises, or throws anything
 * but a {@link ScoringException}, is a bug and reported as one. Thread-safe.
 */
public final class ShardScorer implements JobScorer {
  /** The ONNX Runtime library this worker runs, as recorded in lockfiles. */
  static final String ONNX_RUNTIME =
      "onnxruntime " + ai.onnxruntime.OrtEnvironment.getEnvironment().getVersion();

  /** The ONNX Runtime version alone, e.g. {@code 1.29.0}, for the envelope. */
  static final String ONNX_RUNTIME_VERSION =
      ai.onnxruntime.OrtEnvironment.getEnvironment().getVersion();

  /** This worker's machine, as recorded in lockfiles. */
  static final String HARDWARE =
      System.getProperty("os.name").toLowerCase(Locale.ROOT)
          + "/"
          + System.getProperty("os.arch")
          + ", "
          + Runtime.getRuntime().availableProcessors()
          + " cores";

  private final Map<Task, TaskScorer> scorers = new EnumMap<>(Task.class);
  private final String workerId;
  private final Clock clock;
  private final SessionSetup setup;

  /**
   * How the scorers' sessions are set up, for the envelope of every result.
   *
   * @param intraOpThreads ONNX Runtime intra-op threads per session
   * @param deterministicCompute whether sessions ask for deterministic kernels
   * @param batchSize the most rows in one forward pass of a model that is batched
   */
  public record SessionSetup(int intraOpThreads, boolean deterministicCompute, int batchSize) {}

  /**
   * A scorer whose results' envelopes leave the threads, determinism and batch size unsaid.
   *
   * @throws IllegalArgumentException when two scorers claim one task
   */
  public ShardScorer(Collection<? extends TaskScorer> scorers, String workerId, Clock clock) {
    this(scorers, workerId, clock, null);
  }

  /**
   * @param setup how the sessions are set up, recorded in every result's envelope; null when not
   *     known
   * @throws IllegalArgumentException when two scorers claim one task
   */
  public ShardScorer(
      Collection<? extends TaskScorer> scorers, String workerId, Clock clock, SessionSetup setup) {
    this.setup = setup;
    for (TaskScorer scorer : scorers) {
      if (this.scorers.put(scorer.task(), scorer) != null) {
        throw new IllegalArgumentException("two scorers for task " + scorer.task().wireName());
      }
    }
    this.workerId = workerId;
    this.clock = clock;
  }

  public String workerId() {
    return workerId;
  }

  @Override
  public ShardResult score(ScoringJob job) {
    long started = clock.millis();
    try {
      TaskScorer scorer = scorers.get(job.task());
      if (scorer == null) {
        throw new ScoringException(
            FailureKind.BUG, "this worker has no scorer for task " + job.task().wireName(), null);
      }
      Scored scored = scorer.score(job);
      for (String value : job.task().spec().rowValues()) {
        double[] column = scored.values().get(value);
        if (column == null || column.length != job.rowCount()) {
          throw new ScoringException(
              FailureKind.BUG,
              "the "
                  + job.task().wireName()
                  + " scorer returned "
                  + (column == null
                      ? "no '" + value + "' values"
                      : column.length + " '" + value + "' values for " + job.rowCount() + " rows"),
              null);
        }
      }
      return result(
          job,
          scored,
          clock.millis() - started,
          null,
          new ScoringEnvironment(
              ONNX_RUNTIME, HARDWARE, scored.modelSignature(), envelope(scored)));
    } catch (ScoringException e) {
      return result(job, null, clock.millis() - started, e.toShardError(), null);
    } catch (RuntimeException | OutOfMemoryError e) {
      return result(
          job,
          null,
          clock.millis() - started,
          ScoringException.of("scoring " + job.jobId() + " failed", e).toShardError(),
          null);
    }
  }

  /** Everything about how {@code scored} was computed that can move it without the model. */
  ScoringEnvelope envelope(Scored scored) {
    boolean alone = scored.batching() != null && scored.batching().startsWith("one-");
    boolean cuda = "cuda".equals(scored.executionProvider());
    return ScoringEnvelope.builder()
        .executionProvider(scored.executionProvider())
        .onnxRuntime(ONNX_RUNTIME_VERSION)
        .batching(scored.batching())
        .maxBatchSize(alone ? Integer.valueOf(1) : setup == null ? null : setup.batchSize())
        .intraOpThreads(setup == null ? null : setup.intraOpThreads())
        .deterministicCompute(setup == null ? null : setup.deterministicCompute())
        .cpuArch(Machine.CPU_ARCH)
        .cpuModel(Machine.CPU_MODEL)
        .gpu(cuda ? Machine.GPU : null)
        .build();
  }

  private ShardResult result(
      ScoringJob job,
      Scored scored,
      long durationMs,
      ShardError error,
      ScoringEnvironment environment) {
    return ShardResult.answering(job)
        .values(scored == null ? Map.of() : scored.values())
        .workerId(workerId)
        .executionProvider(scored == null ? null : scored.executionProvider())
        .batching(scored == null ? null : scored.batching())
        .paddingRatio(scored == null ? null : scored.paddingRatio())
        .durationMs(durationMs)
        .attempt(job.attempt())
        .error(error)
        .environment(environment)
        .sketches(scored == null ? Map.of() : scored.sketches())
        .build();
  }
}
