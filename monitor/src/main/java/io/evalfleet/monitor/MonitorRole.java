package io.evalfleet.monitor;

import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.MonitorResult;
import io.evalfleet.common.contract.RetrainRequest;
import io.evalfleet.common.kafka.Groups;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.kafka.acl.FleetRole;
import io.evalfleet.common.kafka.acl.KafkaDenial;
import io.evalfleet.common.metrics.FleetMeter;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.Task;
import io.evalfleet.monitor.drift.DriftCheck;
import io.evalfleet.monitor.drift.PerplexityCheck;
import io.evalfleet.monitor.drift.WindowCheck;
import io.evalfleet.monitor.retrain.RetrainCauses;
import io.evalfleet.monitor.retrain.RetrainLedger;
import io.evalfleet.monitor.traffic.TrafficWindows;
import io.evalfleet.scoring.ScoringException;
import io.evalfleet.scoring.embedding.EmbeddingScorer;
import io.evalfleet.scoring.model.ArtifactCache;
import io.evalfleet.scoring.model.ModelSessions;
import io.evalfleet.scoring.perplexity.CausalLmScorer;
import io.evalfleet.scoring.subset.SubsetReader;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.acl.AclOperation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The monitor role for one production model: on its schedule, a check of the window of traffic that
 * just ended, scored in-process by the production model (a window is a sample of a few hundred
 * texts): embedding drift ({@link DriftCheck}) for an embedding model, perplexity against the
 * reference window and a shadow candidate's token shift ({@link PerplexityCheck}) for a causal LM;
 * the result goes to {@code evalfleet.monitor} and the archive's monitor history, and each
 * retraining cause it raises to {@code evalfleet.retrain-requests}, exactly once: the result and
 * the requests are sent in one Kafka transaction, and the causes already published are read back
 * from that compacted topic (read-committed) when the role starts, so a restarted or repeated check
 * sends no cause twice.
 */
public final class MonitorRole implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(MonitorRole.class);

  private final MonitorSpec spec;
  private final FleetConfig config;
  private final EvaluationArchive archive;
  private final ModelSessions sessions;
  private final WindowCheck check;
  private final KafkaProducer<String, byte[]> producer;
  private final MeterRegistry registry;
  private final Clock clock;
  private final Set<String> published;
  private final AtomicReference<Double> lastPValue = new AtomicReference<>(Double.NaN);
  private MonitorResult previous;
  private Thread loop;
  private volatile boolean running;

  public MonitorRole(
      FleetConfig config, MonitorSpec spec, Path cacheDir, MeterRegistry registry, Clock clock)
      throws IOException {
    this.spec = spec;
    this.config = config;
    this.registry = registry;
    this.clock = clock;
    Storage storage = Storage.of(config);
    this.archive = new EvaluationArchive(storage, config.get(FleetConfig.ARCHIVE_ROOT));
    this.sessions =
        new ModelSessions(
            new ArtifactCache(storage, cacheDir, Long.MAX_VALUE),
            config.get(FleetConfig.INTRA_OP_THREADS));
    SubsetReader subsets = new SubsetReader(storage);
    DriftCheck.Settings settings =
        new DriftCheck.Settings(
            spec.model(),
            spec.version(),
            spec.window(),
            spec.sample(),
            spec.referenceStart(),
            spec.referenceEnd(),
            spec.alpha(),
            spec.permutations(),
            spec.seed());
    TrafficWindows traffic =
        new TrafficWindows(
            storage,
            spec.traffic().uri(),
            spec.traffic().textColumn(),
            spec.traffic().timeColumn());
    if (spec.task() == Task.CAUSAL_LM) {
      CausalLmScorer scorer =
          new CausalLmScorer(
              sessions,
              subsets,
              config.get(FleetConfig.BATCH_SIZE),
              config.get(FleetConfig.LOGITS_BUDGET));
      this.check = new PerplexityCheck(settings, traffic, new LanguageModel(scorer));
    } else {
      EmbeddingScorer embedder =
          new EmbeddingScorer(
              sessions,
              subsets,
              config.get(FleetConfig.BATCH_SIZE),
              config.get(FleetConfig.MAX_SEQ_LEN));
      EmbeddingConventions conventions = EmbeddingConventions.orDefaults(spec.embedding());
      this.check = new DriftCheck(settings, traffic, texts -> embed(embedder, conventions, texts));
    }
    List<MonitorResult> history = archive.monitorHistory(spec.model());
    this.previous = history.isEmpty() ? null : history.get(history.size() - 1);
    this.published =
        new HashSet<>(RetrainLedger.read(config).stream().map(RetrainRequest::causeId).toList());
    this.producer =
        KafkaClients.transactionalProducer(
            config, "evalfleet-monitor", Groups.MONITOR_TRANSACTIONS + spec.model());
    producer.initTransactions();
    FleetMeter.MONITOR_P_VALUE.gauge(registry, lastPValue::get, spec.model());
    log.info(
        "monitor for {} {}: {}, windows of {}, {} causes already published",
        spec.model(),
        spec.version(),
        spec.schedule(),
        spec.window(),
        published.size());
  }

  private double[][] embed(
      EmbeddingScorer embedder, EmbeddingConventions conventions, List<String> texts)
      throws IOException {
    int maxLen = config.get(FleetConfig.MAX_SEQ_LEN);
    try (ModelSessions.TokenizerLease tokenizer = sessions.tokenizer(spec.tokenizer(), maxLen);
        ModelSessions.Lease model = sessions.lease(spec.artifact())) {
      return embedder.embed(
          model.model(),
          tokenizer.tokenizer(),
          conventions,
          texts.stream().map(t -> conventions.prefixA() + t).toList());
    } catch (ScoringException e) {
      throw new IOException(
          "embedding the traffic with " + spec.artifact().uri() + ": " + e.getMessage(), e);
    }
  }

  /**
   * The production causal LM, and its shadow candidate, on traffic texts, through the worker's
   * scorer.
   */
  private final class LanguageModel implements PerplexityCheck.LanguageModel {
    private final CausalLmScorer scorer;

    LanguageModel(CausalLmScorer scorer) {
      this.scorer = scorer;
    }

    @Override
    public double[][] nll(List<String> texts) throws IOException {
      try (ModelSessions.Lease model = sessions.lease(spec.artifact())) {
        long[][] rows = tokens(texts);
        CausalLmScorer.Scores scores =
            scorer.scoreRows(model.model(), rows, spec.maxSeqLen(), stride(), 0);
        return new double[][] {scores.nllSum(), scores.tokens()};
      } catch (ScoringException e) {
        throw new IOException(
            "scoring the traffic with " + spec.artifact().uri() + ": " + e.getMessage(), e);
      }
    }

    @Override
    public Map<String, Double> shadowShift(List<String> texts) throws IOException {
      if (spec.shadow() == null) {
        return Map.of();
      }
      try (ModelSessions.Lease production = sessions.lease(spec.artifact());
          ModelSessions.Lease shadow = sessions.lease(spec.shadow())) {
        CausalLmScorer.Shifts shifts =
            scorer.shiftRows(
                production.model(), shadow.model(), tokens(texts), spec.maxSeqLen(), stride(), 0);
        double tokens = Arrays.stream(shifts.tokens()).sum();
        return Map.of(
            "kl_mean",
            Arrays.stream(shifts.klSum()).sum() / tokens,
            "kl_p99",
            shifts.kl().quantile(0.99),
            "top1_agreement",
            Arrays.stream(shifts.agreements()).sum() / tokens);
      } catch (ScoringException e) {
        throw new IOException(
            "scoring the shadow candidate " + spec.shadow().uri() + ": " + e.getMessage(), e);
      }
    }

    private int stride() {
      return Task.CAUSAL_LM.spec().stride(spec.maxSeqLen(), null);
    }

    /**
     * The texts' token ids; texts of fewer than 2 tokens are scored as they are (no token to
     * score).
     */
    private long[][] tokens(List<String> texts) throws ScoringException {
      try (ModelSessions.TokenizerLease tokenizer = sessions.tokenizer(spec.tokenizer(), 0)) {
        return texts.stream()
            .map(t -> tokenizer.tokenizer().encode(t).getIds())
            .filter(ids -> ids.length >= 2)
            .toArray(long[][]::new);
      }
    }
  }

  /**
   * Checks the window ending at {@code windowEnd}, publishes the result and its new retraining
   * causes in one transaction, and keeps the result in the archive.
   */
  public synchronized MonitorResult checkAt(Instant windowEnd) throws IOException {
    MonitorResult result = check.check(windowEnd, previous, clock.instant());
    List<RetrainRequest> causes =
        RetrainCauses.of(
                result, spec.retrainCadence(), spec.retrainSince(), spec.subset(), clock.instant())
            .stream()
            .filter(cause -> !published.contains(cause.causeId()))
            .toList();
    producer.beginTransaction();
    try {
      producer.send(new ProducerRecord<>(Topics.MONITOR, spec.model(), Json.write(result)));
      for (RetrainRequest cause : causes) {
        producer.send(
            new ProducerRecord<>(Topics.RETRAIN_REQUESTS, cause.causeId(), Json.write(cause)));
      }
      producer.commitTransaction();
    } catch (RuntimeException e) {
      producer.abortTransaction();
      throw e;
    }
    for (RetrainRequest cause : causes) {
      published.add(cause.causeId());
      FleetMeter.RETRAIN_REQUESTS.counter(registry, spec.model(), cause.cause()).increment();
      log.warn(
          "retraining requested for {}: {} ({})", spec.model(), cause.causeId(), cause.evidence());
    }
    archive.writeMonitorResult(result);
    previous = result;
    String outcome =
        result.pValue() == null ? "too_little_traffic" : result.drifted() ? "drift" : "no_drift";
    FleetMeter.MONITOR_CHECKS.counter(registry, spec.model(), outcome).increment();
    if (result.pValue() != null) {
      lastPValue.set(result.pValue());
    }
    log.info("monitor {}: {}", spec.model(), result.evidence());
    return result;
  }

  /** Checks on the spec's schedule, each window ending at its check time, until closed. */
  public MonitorRole start() {
    running = true;
    loop =
        new Thread(
            () -> {
              while (running) {
                Instant next = spec.schedule().next(clock.instant());
                try {
                  Thread.sleep(Math.max(0, Duration.between(clock.instant(), next).toMillis()));
                  checkAt(next);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                  return;
                } catch (IOException | RuntimeException e) {
                  Optional<KafkaDenial> denial = KafkaDenial.of(e);
                  if (denial.isPresent()) {
                    // No later check is let in either: stop, so that the process exits and says.
                    log.error(
                        "monitor stopped: {}",
                        denial.get().message(AclOperation.WRITE, FleetRole.MONITOR));
                    running = false;
                    return;
                  }
                  log.error(
                      "monitor check of {} at {} failed; trying again at the next one: {}",
                      spec.model(),
                      next,
                      e.toString());
                }
              }
            },
            Groups.MONITOR_TRANSACTIONS + spec.model());
    loop.start();
    return this;
  }

  /** Whether its schedule loop is running (false before start and after close). */
  public boolean alive() {
    return running && loop != null && loop.isAlive();
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    if (loop != null) {
      loop.interrupt();
      loop.join();
    }
    producer.close(Duration.ofSeconds(10));
    sessions.close();
  }
}
