package io.evalfleet.dispatcher.topology;

import io.evalfleet.common.contract.ContractViolation;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.dispatcher.baseline.BaselineRecord;
import io.evalfleet.dispatcher.run.RunState;
import java.time.Duration;
import java.time.Instant;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dispatcher's processor, one per task (a partition of the model-keyed topics), and the one
 * place that calls its steps: staged events (repartitioned by model, see {@link
 * DispatcherTopology}) go to {@link Intake}, shard results to {@link Collector}, baseline records
 * to the {@code baselines} store; what a step returns (a run started, a slot freed, a run complete,
 * ended or ready for its decision) it passes on to {@link FlowControl}, {@link Conclusion}, the
 * {@link Looks} at a sequential run's prefix and the {@link DecisionQueue}. The steps do not know
 * each other; they share the task's {@link RunBook}. Wall-clock punctuators run the tick
 * (deadlines, pre-flights due again, resends, publishing), publish progress, forget decided runs
 * past the look-back and apply decisions computed off the stream thread.
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
  private Intake intake;
  private Collector collector;
  private FlowControl flow;
  private Conclusion conclusion;
  private DecisionQueue decisions;
  private Looks looks;

  /**
   * The repartition topics through which staged events and baseline records arrive, keyed by model.
   */
  private String stagedByModel;

  private String baselinesByModel;

  DispatchProcessor(Dispatching dispatching) {
    this.dispatching = dispatching;
  }

  @Override
  public void init(ProcessorContext<String, byte[]> context) {
    this.context = context;
    this.stagedByModel =
        DispatcherTopology.repartitionTopic(
            context.applicationId(), DispatcherTopology.STAGED_BY_MODEL);
    this.baselinesByModel =
        DispatcherTopology.repartitionTopic(
            context.applicationId(), DispatcherTopology.BASELINES_BY_MODEL);
    this.book = new RunBook(context, dispatching);
    this.intake = new Intake(book);
    this.collector = new Collector(book);
    this.flow = new FlowControl(book);
    this.conclusion = new Conclusion(book);
    this.decisions = new DecisionQueue(book);
    this.looks = new Looks(book);
    flow.reload();
    decisions.reload();
    context.schedule(
        dispatching.tick,
        PunctuationType.WALL_CLOCK_TIME,
        now -> {
          decide();
          tick();
        });
    context.schedule(
        PROGRESS_EVERY, PunctuationType.WALL_CLOCK_TIME, now -> book.publishProgress());
    context.schedule(EXPIRE_DECIDED, PunctuationType.WALL_CLOCK_TIME, now -> book.expireDecided());
    // Decisions computed off the stream thread are published as soon as the thread looks.
    context.schedule(DECISIONS_DUE, PunctuationType.WALL_CLOCK_TIME, now -> decide());
  }

  @Override
  public void process(Record<String, byte[]> record) {
    RecordMetadata read = context.recordMetadata().orElseThrow();
    if (read.topic().equals(Topics.RESULTS)) {
      collected(collector.onResult(record, read));
    } else if (read.topic().equals(stagedByModel)) {
      preflighted(intake.onStaged(record, KeyByModel.Origin.of(record.headers(), read)));
    } else if (read.topic().equals(baselinesByModel)) {
      onBaseline(record, KeyByModel.Origin.of(record.headers(), read));
    } else {
      throw new IllegalStateException("no route for records of " + read.topic());
    }
  }

  /** After intake or a pre-flight tried again: the run starts scoring, is settled, or ends. */
  private void preflighted(Intake.Preflighted preflighted) {
    if (preflighted instanceof Intake.Scoring scoring) {
      flow.started(scoring.run());
      flow.publish();
      // Workers wait for the first jobs of a run: they are readable once committed.
      book.commitSoon();
    } else if (preflighted instanceof Intake.Reused reused) {
      settle(reused.run());
    } else if (preflighted instanceof Intake.Refused refused) {
      ended(conclusion.refuse(refused.run(), refused.reason()));
    }
  }

  /**
   * After a shard result: a slot freed, the run settled once complete, or the run failed; then
   * publishing.
   */
  private void collected(Collector.Collected collected) {
    if (collected instanceof Collector.Accepted accepted) {
      flow.released(1);
      if (accepted.run().complete()) {
        settle(accepted.run());
      } else if (looks.onAccepted(accepted.run()) instanceof Looks.Stopped stopped) {
        flow.released(stopped.releasedJobs());
        decisions.add(stopped.run());
        decide();
      }
      flow.publish();
    } else if (collected instanceof Collector.Retrying) {
      flow.publish();
    } else if (collected instanceof Collector.Failed failed) {
      if (failed.answered()) {
        flow.released(1);
        ended(conclusion.fail(failed.run(), failed.reason()));
      } else {
        ended(conclusion.fail(failed.run(), failed.reason()));
        flow.publish();
      }
    }
  }

  /** A complete run: ends, waits for its baseline, or is queued for its decision. */
  private void settle(RunState run) {
    Conclusion.Settled settled = conclusion.conclude(run);
    if (settled instanceof Conclusion.ToDecide toDecide) {
      decisions.add(toDecide.run());
      decide();
    } else if (settled instanceof Conclusion.Ended end) {
      ended(end);
    }
  }

  /**
   * A run ended: its jobs' slots are free, and the model's next first version, if waiting, is
   * settled.
   */
  private void ended(Conclusion.Ended end) {
    flow.released(end.releasedJobs());
    end.nextInLine().ifPresent(this::settle);
  }

  /**
   * Applies the decisions that came back and starts the next while none is being computed, until
   * none is ready or one is being computed off the stream thread.
   */
  private void decide() {
    while (true) {
      DecisionQueue.Decided decided = decisions.nextDecided();
      if (decided != null) {
        apply(decided.run(), decided.outcome());
        continue;
      }
      DecisionQueue.Started started = decisions.startNext();
      if (started instanceof DecisionQueue.Unassembled unassembled) {
        ended(conclusion.fail(unassembled.run(), unassembled.reason()));
      } else if (!(started instanceof DecisionQueue.Running)) {
        return;
      }
    }
  }

  private void apply(RunState run, Decision.Outcome outcome) {
    if (outcome.failure() != null) {
      ended(conclusion.fail(run, outcome.failure()));
    } else if (outcome.pinned() != null) {
      conclusion.pinFirst(run, outcome).forEach(this::settle);
    } else {
      conclusion.decided(run, outcome);
    }
  }

  /**
   * The wall-clock step: runs past their deadline end, pre-flights due are tried again, paused and
   * overdue jobs are sent again; then the counts are taken again from the stores and jobs
   * published.
   */
  private void tick() {
    Instant now = book.now();
    for (RunState run : book.allRuns()) {
      switch (flow.due(run, now)) {
        case DEADLINE -> ended(conclusion.expire(run));
        case PREFLIGHT -> preflighted(intake.preflight(run, null));
        case OPEN_JOBS -> flow.resend(run, now);
        case NOTHING -> {}
      }
    }
    flow.reload();
    flow.publish();
  }

  /**
   * A version pinned or promoted (here, or from the command line) becomes the model's baseline for
   * events staged from now on.
   */
  private void onBaseline(Record<String, byte[]> record, RecordMetadata source) {
    if (record.key() == null || record.key().isEmpty()) {
      log.warn(
          "ignoring a baseline record that names no model at {}-{}@{}",
          source.topic(),
          source.partition(),
          source.offset());
      return;
    }
    if (record.value() == null) {
      book.dropBaseline(record.key());
      return;
    }
    try {
      BaselineRecord baseline = Json.read(record.value(), BaselineRecord.class);
      book.followBaseline(baseline)
          .filter(before -> !before.version().equals(baseline.version()))
          .ifPresent(
              before ->
                  log.info(
                      "production baseline of {} is now version {} (was {})",
                      baseline.model(),
                      baseline.version(),
                      before.version()));
    } catch (ContractViolation e) {
      log.warn(
          "ignoring unreadable baseline record for {} at {}-{}@{}: {}",
          record.key(),
          source.topic(),
          source.partition(),
          source.offset(),
          e.getMessage());
    }
  }

  @Override
  public void close() {
    dispatching.unload(book.taskId());
  }
}
