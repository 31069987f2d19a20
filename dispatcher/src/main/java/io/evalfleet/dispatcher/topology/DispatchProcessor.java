package io.evalfleet.dispatcher.topology;

import io.evalfleet.common.contract.ContractViolation;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.dispatcher.baseline.BaselineRecord;
import java.time.Duration;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dispatcher's processor, one per task (a partition of the model-keyed topics): routes staged
 * events (repartitioned by model, see {@link DispatcherTopology}) to {@link Intake}, shard results to {@link Collector} and baseline records to the {@code
 * baselines} store, and runs {@link FlowControl#tick} on a wall-clock punctuator.
 */
final class DispatchProcessor implements Processor<String, byte[], String, byte[]> {
  private static final Logger log = LoggerFactory.getLogger(DispatchProcessor.class);
  /** How often decided run ids past the look-back are forgotten. */
  private static final Duration EXPIRE_DECIDED = Duration.ofMinutes(1);
  private static final Duration DECISIONS_DUE = Duration.ofMillis(20);
  /** How often the progress of runs that moved is published. */
  private static final Duration PROGRESS_EVERY = Duration.ofSeconds(1);

  private final Dispatching dispatching;
  private ProcessorContext<String, byte[]> context;
  private RunBook book;
  private FlowControl flow;
  private Conclusion conclusion;
  private Intake intake;
  private Collector collector;
  /** The repartition topics through which staged events and baseline records arrive, keyed by model. */
  private String stagedByModel;
  private String baselinesByModel;

  DispatchProcessor(Dispatching dispatching) {
    this.dispatching = dispatching;
  }

  @Override
  public void init(ProcessorContext<String, byte[]> context) {
    this.context = context;
    this.stagedByModel = DispatcherTopology.repartitionTopic(context.applicationId(), DispatcherTopology.STAGED_BY_MODEL);
    this.baselinesByModel = DispatcherTopology.repartitionTopic(context.applicationId(),
        DispatcherTopology.BASELINES_BY_MODEL);
    this.book = new RunBook(context, dispatching);
    this.flow = new FlowControl(book);
    this.conclusion = new Conclusion(book, flow);
    this.intake = new Intake(book, flow, conclusion);
    this.collector = new Collector(book, flow, conclusion);
    flow.reload();
    conclusion.reload();
    context.schedule(dispatching.tick, PunctuationType.WALL_CLOCK_TIME, now -> {
      conclusion.applyDecisions();
      flow.tick(intake, conclusion);
    });
    context.schedule(PROGRESS_EVERY, PunctuationType.WALL_CLOCK_TIME, now -> book.publishProgress());
    context.schedule(EXPIRE_DECIDED, PunctuationType.WALL_CLOCK_TIME, now -> book.expireDecided());
    // Decisions computed off the stream thread are published as soon as the thread looks.
    context.schedule(DECISIONS_DUE, PunctuationType.WALL_CLOCK_TIME, now -> conclusion.applyDecisions());
  }

  @Override
  public void process(Record<String, byte[]> record) {
    RecordMetadata read = context.recordMetadata().orElseThrow();
    if (read.topic().equals(Topics.RESULTS)) {
      collector.onResult(record, read);
    } else if (read.topic().equals(stagedByModel)) {
      intake.onStaged(record, KeyByModel.Origin.of(record.headers(), read));
    } else if (read.topic().equals(baselinesByModel)) {
      onBaseline(record, KeyByModel.Origin.of(record.headers(), read));
    } else {
      throw new IllegalStateException("no route for records of " + read.topic());
    }
  }

  /** A version pinned or promoted (here, or from the command line) becomes the model's baseline for events staged from now on. */
  private void onBaseline(Record<String, byte[]> record, RecordMetadata source) {
    if (record.key() == null || record.key().isEmpty()) {
      log.warn("ignoring a baseline record that names no model at {}-{}@{}", source.topic(), source.partition(),
          source.offset());
      return;
    }
    if (record.value() == null) {
      book.baselines.delete(record.key());
      return;
    }
    try {
      BaselineRecord baseline = Json.read(record.value(), BaselineRecord.class);
      BaselineRecord before = book.baselines.get(baseline.model());
      book.baselines.put(baseline.model(), baseline);
      if (before != null && !before.version().equals(baseline.version())) {
        log.info("production baseline of {} is now version {} (was {})", baseline.model(), baseline.version(),
            before.version());
      }
    } catch (ContractViolation e) {
      log.warn("ignoring unreadable baseline record for {} at {}-{}@{}: {}", record.key(), source.topic(),
          source.partition(), source.offset(), e.getMessage());
    }
  }

  @Override
  public void close() {
    dispatching.unload(book.taskId());
  }
}
