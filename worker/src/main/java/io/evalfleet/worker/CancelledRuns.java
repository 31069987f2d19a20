package io.evalfleet.worker;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.kafka.acl.KafkaDenial;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows {@code evalfleet.runs.cancelled} (read from its start, committed transactions only, no
 * consumer group): the runs decided before their end, whose jobs a worker skips. Keeps at most
 * {@link #KEPT} run ids, the most recent ones (a job of a run cancelled longer ago is scored, and
 * its answer ignored by the dispatcher: nothing is wrong, only wasted). A tombstone forgets a run.
 *
 * <p>Threading: {@link #run()} owns the consumer; {@link #isCancelled} may be called from any
 * thread; {@link #close()} wakes the loop and may be called from any thread.
 */
final class CancelledRuns implements Runnable, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CancelledRuns.class);

  /** Run ids kept. */
  static final int KEPT = 100_000;

  private static final Duration POLL = Duration.ofMillis(200);

  private final Consumer<String, byte[]> consumer;
  private final Cache<String, Boolean> cancelled = Caffeine.newBuilder().maximumSize(KEPT).build();
  private final AtomicBoolean closed = new AtomicBoolean();

  /**
   * @param consumer a consumer outside any group, reading committed records; closed by {@link
   *     #run()} when it ends
   */
  CancelledRuns(Consumer<String, byte[]> consumer) {
    this.consumer = consumer;
  }

  /** Whether the jobs of {@code runId} need not be scored any more. */
  boolean isCancelled(String runId) {
    return runId != null && cancelled.getIfPresent(runId) != null;
  }

  /** Counts {@code runId} as cancelled (what a record on the topic does). */
  void cancel(String runId) {
    cancelled.put(runId, Boolean.TRUE);
  }

  @Override
  public void run() {
    try (consumer) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(Topics.RUNS_CANCELLED, Duration.ofSeconds(30)).stream()
              .map(p -> new TopicPartition(p.topic(), p.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      while (!closed.get()) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(POLL)) {
          if (record.key() == null) {
            continue;
          }
          if (record.value() == null) {
            cancelled.invalidate(record.key());
          } else {
            cancel(record.key());
          }
        }
      }
    } catch (WakeupException e) {
      if (!closed.get()) {
        throw e;
      }
    } catch (RuntimeException e) {
      // Not fatal to the worker: it scores what it receives, as before cancellations existed.
      log.error(
          "stopped following {}: {}",
          Topics.RUNS_CANCELLED,
          KafkaDenial.of(e).map(d -> d.message(AclOperation.READ)).orElse(e.toString()));
    }
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      consumer.wakeup();
    }
  }
}
