package io.evalfleet.cli;

import io.evalfleet.cli.progress.ProgressDisplay;
import io.evalfleet.cli.progress.ProgressWatcher;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/** Reads drift flags from the flags topic, outside any consumer group. Not thread-safe. */
public final class FlagWatcher implements AutoCloseable {
  private final KafkaConsumer<String, byte[]> consumer;
  private final Map<String, DriftFlag> seen = new HashMap<>();
  private final Map<String, Integer> counts = new HashMap<>();

  /**
   * @param fromBeginning read the whole topic, or only flags published from now on
   */
  public FlagWatcher(FleetConfig config, boolean fromBeginning) {
    consumer = KafkaClients.reader(config, "evalfleet-flag-watcher");
    List<TopicPartition> partitions =
        consumer.partitionsFor(Topics.DRIFT_FLAGS, Duration.ofSeconds(30)).stream()
            .map(p -> new TopicPartition(p.topic(), p.partition()))
            .toList();
    consumer.assign(partitions);
    if (fromBeginning) {
      consumer.seekToBeginning(partitions);
    } else {
      consumer.seekToEnd(partitions);
      partitions.forEach(consumer::position); // fix the position now, before anything is submitted
    }
  }

  /** The next flags published, waiting at most {@code timeout}. */
  public List<DriftFlag> poll(Duration timeout) {
    List<DriftFlag> flags = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> record : consumer.poll(timeout)) {
      DriftFlag flag = Json.read(record.value(), DriftFlag.class);
      seen.put(flag.eventId(), flag);
      counts.merge(flag.eventId(), 1, Integer::sum);
      flags.add(flag);
    }
    return flags;
  }

  /** Waits for the flag of {@code eventId}. */
  public DriftFlag await(String eventId, Duration timeout) throws TimeoutException {
    return await(eventId, timeout, () -> {});
  }

  /**
   * Waits for the flag of {@code eventId}, running {@code meanwhile} between polls (e.g. to show
   * progress).
   */
  public DriftFlag await(String eventId, Duration timeout, Runnable meanwhile)
      throws TimeoutException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      Optional<DriftFlag> flag = Optional.ofNullable(seen.get(eventId));
      if (flag.isPresent()) {
        return flag.get();
      }
      poll(Duration.ofMillis(200));
      meanwhile.run();
    }
    throw new TimeoutException(
        "no drift flag for event "
            + eventId
            + " within "
            + timeout
            + " (an event id is"
            + " evaluated once: if this one was staged before, its flag came then; stage it under a new event_id)");
  }

  /**
   * Waits for the flag of {@code eventId}, showing the run's progress on {@code display} meanwhile:
   * the progress that commits with the flag too, then the run's bar finished.
   */
  public DriftFlag await(
      String eventId, Duration timeout, ProgressWatcher progress, ProgressDisplay display)
      throws TimeoutException {
    Consumer<Duration> show =
        wait ->
            progress.poll(wait).stream()
                .filter(p -> eventId.equals(p.eventId()))
                .forEach(display::show);
    DriftFlag flag = await(eventId, timeout, () -> show.accept(Duration.ZERO));
    show.accept(Duration.ofMillis(300));
    display.finish(flag.runId());
    return flag;
  }

  /** The latest flag read so far for each event id. */
  public Map<String, DriftFlag> seen() {
    return Map.copyOf(seen);
  }

  /** How many flags were read so far for {@code eventId}: the fleet promises exactly one. */
  public int count(String eventId) {
    return counts.getOrDefault(eventId, 0);
  }

  @Override
  public void close() {
    consumer.close();
  }
}
