package io.evalfleet.cli;

import io.evalfleet.cli.progress.ProgressDisplay;
import io.evalfleet.cli.progress.ProgressWatcher;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ContractViolation;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.signing.FlagKeys;
import io.evalfleet.common.signing.FlagVerifier;
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

/**
 * Reads drift flags from the flags topic, outside any consumer group. With {@link
 * FleetConfig#FLAG_PUBLIC_KEYS} set, only flags signed by a trusted key count: a forged, altered or
 * unsigned flag is {@linkplain #read read} as rejected, never {@linkplain #poll polled} as a
 * verdict or {@linkplain #await awaited}. Not thread-safe.
 */
public final class FlagWatcher implements AutoCloseable {
  /**
   * One record read from the flags topic.
   *
   * @param flag the flag, or null when a rejected record is not a readable flag
   * @param key the record's key (the model, by the dispatcher's keying)
   * @param verification how its signature verified; null when flags are not verified
   */
  public record Read(DriftFlag flag, String key, FlagVerifier.Verification verification) {
    /** Whether this is a verdict to show and act on. */
    public boolean accepted() {
      return flag != null && (verification == null || verification.verified());
    }

    /** The model it names: the flag's, else the record's key. */
    public String model() {
      return flag != null && flag.model() != null ? flag.model() : key;
    }

    /** The line a rejected record is shown as. */
    public String rejectedLine() {
      FlagVerifier.Rejected rejected = (FlagVerifier.Rejected) verification;
      return "REJECTED flag for model "
          + model()
          + (flag == null
              ? ""
              : " version "
                  + flag.version()
                  + " (event "
                  + flag.eventId()
                  + ", claims "
                  + flag.flag()
                  + ")")
          + ": "
          + rejected.reason().wireName()
          + ": "
          + rejected.detail();
    }
  }

  private final KafkaConsumer<String, byte[]> consumer;
  private final FlagVerifier verifier;
  private final Map<String, DriftFlag> seen = new HashMap<>();
  private final Map<String, Integer> counts = new HashMap<>();
  private final Map<String, Read> rejected = new HashMap<>();
  private java.util.function.Consumer<Read> onRejected = r -> {};

  /**
   * @param fromBeginning read the whole topic, or only flags published from now on
   * @throws IllegalArgumentException naming the file, when a configured public key cannot be read
   */
  public FlagWatcher(FleetConfig config, boolean fromBeginning) {
    try {
      this.verifier = FlagVerifier.of(config).orElse(null);
    } catch (FlagKeys.KeyFileException e) {
      throw new IllegalArgumentException(
          "cannot verify flags (" + FleetConfig.FLAG_PUBLIC_KEYS.key() + "): " + e.getMessage(), e);
    }
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

  /** Whether flags are verified (public keys are configured). */
  public boolean verifying() {
    return verifier != null;
  }

  /** Calls {@code listener} with every rejected record as it is read (e.g. to print it). */
  public FlagWatcher onRejected(java.util.function.Consumer<Read> listener) {
    this.onRejected = listener;
    return this;
  }

  /** The next flags published, accepted or rejected, waiting at most {@code timeout}. */
  public List<Read> read(Duration timeout) {
    List<Read> reads = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> record : consumer.poll(timeout)) {
      FlagVerifier.Verification verification =
          verifier == null ? null : verifier.verify(record.value(), record.headers());
      DriftFlag flag;
      try {
        flag = Json.read(record.value(), DriftFlag.class);
      } catch (ContractViolation e) {
        if (verification == null || verification.verified()) {
          throw e;
        }
        flag = null;
      }
      Read read = new Read(flag, record.key(), verification);
      if (read.accepted()) {
        seen.put(flag.eventId(), flag);
        counts.merge(flag.eventId(), 1, Integer::sum);
      } else {
        if (flag != null && flag.eventId() != null) {
          rejected.put(flag.eventId(), read);
        }
        onRejected.accept(read);
      }
      reads.add(read);
    }
    return reads;
  }

  /** The next verdicts published (flags that verified, or every flag when not verifying). */
  public List<DriftFlag> poll(Duration timeout) {
    return read(timeout).stream().filter(Read::accepted).map(Read::flag).toList();
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
    Read forged = rejected.get(eventId);
    if (forged != null) {
      throw new TimeoutException(
          "no verified drift flag for event "
              + eventId
              + " within "
              + timeout
              + "; the flag read for it was not trusted: "
              + forged.rejectedLine());
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
