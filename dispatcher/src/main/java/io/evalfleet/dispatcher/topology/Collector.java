package io.evalfleet.dispatcher.topology;

import io.evalfleet.common.contract.ContractViolation;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.ShardError;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.failure.FailureKind;
import io.evalfleet.dispatcher.run.RunState;
import io.evalfleet.dispatcher.run.ShardState;
import java.time.Duration;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Collects shard results: the first answer to a job in flight is kept (in {@code shard-results}),
 * duplicates and answers to decided runs are counted and dropped. A failed shard is sent again when
 * its failure may pass (a dependency unavailable: after a pause, until the deadline; a resource
 * exhausted: up to three attempts), and otherwise fails its run with an ERROR naming the shard. It
 * reads and writes the run book only; what follows from a result (a free slot, a run to settle or
 * to fail) it returns to the processor as {@link Collected}.
 */
final class Collector {
  private static final Logger log = LoggerFactory.getLogger(Collector.class);

  /** What a result did, for the processor to carry on with. */
  sealed interface Collected permits Ignored, Accepted, Retrying, Failed {}

  /**
   * Unreadable (dead-lettered), a duplicate, sent on to its model's task, or for a run unknown
   * here.
   */
  record Ignored() implements Collected {}

  /** The shard is done: its slot is free, and its run may be complete. */
  record Accepted(RunState run) implements Collected {}

  /**
   * The shard failed in a way that may pass: it is paused or was sent again, and holds its slot.
   */
  record Retrying() implements Collected {}

  /**
   * The run fails for this shard's answer.
   *
   * @param answered whether the shard was closed with the answer (its slot is free apart from the
   *     run's)
   */
  record Failed(RunState run, String reason, boolean answered) implements Collected {}

  private static final Collected IGNORED = new Ignored();
  private static final Collected RETRYING = new Retrying();

  private final RunBook book;

  Collector(RunBook book) {
    this.book = book;
  }

  Collected onResult(Record<String, byte[]> record, RecordMetadata source) {
    ShardResult result;
    try {
      result = Json.read(record.value(), ShardResult.class);
    } catch (ContractViolation e) {
      log.error(
          "unreadable shard result at {}-{}@{} sent to the dead-letter topic: {}",
          source.topic(),
          source.partition(),
          source.offset(),
          e.getMessage());
      book.deadLetter(
          source.topic(),
          source.partition(),
          source.offset(),
          record.key(),
          record.value(),
          record.headers(),
          e);
      return IGNORED;
    }
    RunState run = book.run(result.runId());
    if (run == null && !book.isDecided(result.runId())) {
      unknownRun(record, source, result);
      return IGNORED;
    }
    // A run stopped early is decided from its prefix: what its cancelled jobs still answer is late.
    ShardState shard = run == null || run.stoppedEarly() ? null : book.shard(result.jobId());
    if (shard == null
        || shard.status() != ShardState.Status.IN_FLIGHT
        || shard.index() != result.shardIndex()) {
      book.dispatching.resultsDuplicate.increment();
      log.debug("ignoring result {} (duplicate, or its run is decided)", result.jobId());
      return IGNORED;
    }
    book.dispatching.resultsAccepted.increment();
    if (result.failed()) {
      return onFailure(run, shard, result);
    }
    if (result.rowStart() != shard.rowStart() || result.rowCount() != shard.rowCount()) {
      run.closed();
      return new Failed(
          run,
          "shard "
              + shard.index()
              + " was answered for rows "
              + result.rowStart()
              + "+"
              + result.rowCount()
              + ", but it holds rows "
              + shard.rowStart()
              + "+"
              + shard.rowCount(),
          true);
    }
    shard.done(result);
    book.saveShard(result.jobId(), shard);
    book.recordShardResult(result);
    run.closed();
    run.count(shard);
    book.progressed(run);
    return new Accepted(run);
  }

  /**
   * A result for a run this task neither holds nor decided. Read on another partition than its key
   * hashes to (by the Java client's partitioner, as the repartitioned events are), it belongs to
   * another task: it is sent on, keyed as it came. Otherwise its run is unknown here (decided
   * longer ago than the look-back, or staged on another dispatcher application): counted and named.
   */
  private void unknownRun(
      Record<String, byte[]> record, RecordMetadata source, ShardResult result) {
    int partitions = book.dispatching.resultsPartitions();
    if (partitions > 0
        && record.key() != null
        && ModelPartition.of(record.key(), partitions) != source.partition()) {
      book.dispatching.resultsRerouted.increment();
      log.info(
          "result {} for model {} was read on partition {} of {}, not {}: sending it on to the task of its model",
          result.jobId(),
          record.key(),
          source.partition(),
          partitions,
          ModelPartition.of(record.key(), partitions));
      book.reroute(record);
      return;
    }
    book.dispatching.resultsUnknownRun.increment();
    log.warn(
        "result {} (key {}, {}-{}@{}) is for run {}, which this dispatcher neither holds nor decided within"
            + " dispatcher.decided-look-back: ignored",
        result.jobId(),
        record.key(),
        source.topic(),
        source.partition(),
        source.offset(),
        result.runId());
  }

  private Collected onFailure(RunState run, ShardState shard, ShardResult result) {
    ShardError error = result.error();
    switch (error.kind()) {
      case UNAVAILABLE -> {
        // Not the job's fault: sent again after a pause, as often as the run's deadline allows; a
        // run still waiting at its deadline ends INCOMPLETE naming the dependency.
        Duration pause = Dispatching.unavailableBackoff(shard.unavailableRetries());
        log.warn(
            "job {}: {}; sending it again in {} s",
            result.jobId(),
            error.message(),
            pause.toSeconds());
        shard.pauseUntil(book.now().plus(pause));
        run.whyWaiting(error.message());
        book.saveShard(result.jobId(), shard);
        book.save(run);
        return RETRYING;
      }
      case RESOURCE_EXHAUSTED -> {
        if (shard.attempt() < Dispatching.MAX_ATTEMPTS) {
          log.warn(
              "job {} attempt {} ran out of a resource, dispatching again: {}",
              result.jobId(),
              shard.attempt(),
              error.message());
          shard.sent(shard.attempt() + 1, book.now());
          book.saveShard(result.jobId(), shard);
          book.publishJob(run, shard, "retry");
          return RETRYING;
        }
      }
      case BAD_INPUT, BUG, CRASHED -> {}
    }
    String attempts = error.kind().retriable() ? " in " + result.attempt() + " attempts" : "";
    return new Failed(
        run,
        "shard "
            + result.shardIndex()
            + " (rows "
            + result.rowStart()
            + "-"
            + (result.rowStart() + result.rowCount() - 1)
            + ") could not be scored"
            + attempts
            + ": "
            + (error.kind() == FailureKind.BAD_INPUT ? "" : error.kind().description() + ": ")
            + error.message(),
        false);
  }
}
