package io.evalfleet.monitor;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.ContractViolation;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.Task;
import io.evalfleet.monitor.schedule.Schedule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What one monitor watches and how, read from a JSON file ({@code evalfleet monitor --spec}).
 *
 * @param model the production model's name; {@code version} its version, for the records
 * @param artifact the production model (an embedding model) with its tokenizer and conventions
 * @param traffic where its traffic is logged
 * @param window the length of each checked window, ending at the check time
 * @param sample texts sampled from each window (and from the reference window)
 * @param referenceStart the reference window, the traffic the model is known to serve well
 * @param interval check every this long; or {@code cron}, a Unix cron expression (UTC); one of both
 * @param alpha the false-alarm rate per window
 * @param permutations of the MMD² permutation test
 * @param retrainCadence retrain at least this often, counted from {@code retrainSince}; null for
 *     drift alone
 * @param subset the golden subset a retraining request asks to rebuild, or null
 * @param task {@code embedding} (the default: embedding drift, MMD²) or {@code causal-lm}
 *     (perplexity on the traffic against the reference window)
 * @param maxSeqLen a causal LM's context (longer texts are scored with the sliding window)
 * @param shadow a causal-LM candidate with the same tokenizer, run in shadow: its token shift from
 *     the production model on each window's texts is reported; null for none
 */
public record MonitorSpec(
    String model,
    String version,
    ArtifactRef artifact,
    ArtifactRef tokenizer,
    EmbeddingConventions embedding,
    Traffic traffic,
    Duration window,
    int sample,
    Instant referenceStart,
    Instant referenceEnd,
    Duration interval,
    String cron,
    double alpha,
    int permutations,
    long seed,
    Duration retrainCadence,
    Instant retrainSince,
    String subset,
    Task task,
    Integer maxSeqLen,
    ArtifactRef shadow) {

  public MonitorSpec {
    task = task == null ? Task.EMBEDDING : task;
  }

  /**
   * Traffic logs: Parquet files under {@code uri}, with a text column and an epoch-millisecond time
   * column.
   */
  public record Traffic(String uri, String textColumn, String timeColumn) {}

  /** The problems with this spec, each naming its field; empty when it is fine. */
  public List<String> problems() {
    List<String> problems = new ArrayList<>();
    if (model == null || model.isBlank()) {
      problems.add("model is missing");
    }
    if (artifact == null || tokenizer == null) {
      problems.add("artifact and tokenizer ({uri, sha256}) are required");
    }
    if (traffic == null
        || traffic.uri() == null
        || traffic.textColumn() == null
        || traffic.timeColumn() == null) {
      problems.add("traffic needs uri, text_column and time_column");
    }
    if (window == null || window.isNegative() || window.isZero()) {
      problems.add("window must be a positive duration, e.g. PT1H");
    }
    if (sample < 10) {
      problems.add("sample must be at least 10 texts, was " + sample);
    }
    if (referenceStart == null || referenceEnd == null || !referenceStart.isBefore(referenceEnd)) {
      problems.add("reference_start must be before reference_end");
    }
    if ((interval == null) == (cron == null)) {
      problems.add("give exactly one of interval (e.g. PT1H) and cron (e.g. \"0 * * * *\")");
    } else {
      try {
        schedule();
      } catch (IllegalArgumentException e) {
        problems.add(e.getMessage());
      }
    }
    if (!(alpha > 0 && alpha < 1)) {
      problems.add("alpha must be in (0, 1), was " + alpha);
    }
    if (permutations < 99) {
      problems.add(
          "permutations must be at least 99 (a p-value's resolution is 1/(permutations + 1)), was "
              + permutations);
    }
    if (task == Task.CAUSAL_LM && (maxSeqLen == null || maxSeqLen < 2)) {
      problems.add("max_seq_len (at least 2) is required for task causal-lm");
    }
    if (shadow != null && task != Task.CAUSAL_LM) {
      problems.add("shadow applies to task causal-lm only");
    }
    if (retrainCadence != null && retrainSince == null) {
      problems.add("retrain_cadence needs retrain_since, when the cadence starts counting");
    }
    return problems;
  }

  public Schedule schedule() {
    return interval != null ? Schedule.every(interval) : Schedule.cron(cron);
  }

  /**
   * @throws IllegalArgumentException listing every problem of the file
   */
  public static MonitorSpec read(Path file) throws IOException {
    MonitorSpec spec;
    try {
      spec = Json.read(Files.readAllBytes(file), MonitorSpec.class);
    } catch (ContractViolation e) {
      throw new IllegalArgumentException(
          "monitor spec " + file + " is invalid: " + e.getMessage(), e);
    }
    List<String> problems = spec.problems();
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(
          "monitor spec " + file + " is invalid: " + String.join("; ", problems));
    }
    return spec;
  }

  /**
   * A new {@code MonitorSpec}, set by component name; {@link Builder#build()} runs the
   * constructor's checks.
   */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from this MonitorSpec's components, to build a changed copy. */
  public Builder toBuilder() {
    Builder builder = new Builder();
    builder.model = model;
    builder.version = version;
    builder.artifact = artifact;
    builder.tokenizer = tokenizer;
    builder.embedding = embedding;
    builder.traffic = traffic;
    builder.window = window;
    builder.sample = sample;
    builder.referenceStart = referenceStart;
    builder.referenceEnd = referenceEnd;
    builder.interval = interval;
    builder.cron = cron;
    builder.alpha = alpha;
    builder.permutations = permutations;
    builder.seed = seed;
    builder.retrainCadence = retrainCadence;
    builder.retrainSince = retrainSince;
    builder.subset = subset;
    builder.task = task;
    builder.maxSeqLen = maxSeqLen;
    builder.shadow = shadow;
    return builder;
  }

  /** Builds a {@link MonitorSpec}; a component left unset is null (0 or false for a primitive). */
  public static final class Builder {
    private String model;
    private String version;
    private ArtifactRef artifact;
    private ArtifactRef tokenizer;
    private EmbeddingConventions embedding;
    private Traffic traffic;
    private Duration window;
    private int sample;
    private Instant referenceStart;
    private Instant referenceEnd;
    private Duration interval;
    private String cron;
    private double alpha;
    private int permutations;
    private long seed;
    private Duration retrainCadence;
    private Instant retrainSince;
    private String subset;
    private Task task;
    private Integer maxSeqLen;
    private ArtifactRef shadow;

    private Builder() {}

    public Builder model(String model) {
      this.model = model;
      return this;
    }

    public Builder version(String version) {
      this.version = version;
      return this;
    }

    public Builder artifact(ArtifactRef artifact) {
      this.artifact = artifact;
      return this;
    }

    public Builder tokenizer(ArtifactRef tokenizer) {
      this.tokenizer = tokenizer;
      return this;
    }

    public Builder embedding(EmbeddingConventions embedding) {
      this.embedding = embedding;
      return this;
    }

    public Builder traffic(Traffic traffic) {
      this.traffic = traffic;
      return this;
    }

    public Builder window(Duration window) {
      this.window = window;
      return this;
    }

    public Builder sample(int sample) {
      this.sample = sample;
      return this;
    }

    public Builder referenceStart(Instant referenceStart) {
      this.referenceStart = referenceStart;
      return this;
    }

    public Builder referenceEnd(Instant referenceEnd) {
      this.referenceEnd = referenceEnd;
      return this;
    }

    public Builder interval(Duration interval) {
      this.interval = interval;
      return this;
    }

    public Builder cron(String cron) {
      this.cron = cron;
      return this;
    }

    public Builder alpha(double alpha) {
      this.alpha = alpha;
      return this;
    }

    public Builder permutations(int permutations) {
      this.permutations = permutations;
      return this;
    }

    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    public Builder retrainCadence(Duration retrainCadence) {
      this.retrainCadence = retrainCadence;
      return this;
    }

    public Builder retrainSince(Instant retrainSince) {
      this.retrainSince = retrainSince;
      return this;
    }

    public Builder subset(String subset) {
      this.subset = subset;
      return this;
    }

    public Builder task(Task task) {
      this.task = task;
      return this;
    }

    public Builder maxSeqLen(Integer maxSeqLen) {
      this.maxSeqLen = maxSeqLen;
      return this;
    }

    public Builder shadow(ArtifactRef shadow) {
      this.shadow = shadow;
      return this;
    }

    /** The record, through its canonical constructor. */
    public MonitorSpec build() {
      return new MonitorSpec(
          model,
          version,
          artifact,
          tokenizer,
          embedding,
          traffic,
          window,
          sample,
          referenceStart,
          referenceEnd,
          interval,
          cron,
          alpha,
          permutations,
          seed,
          retrainCadence,
          retrainSince,
          subset,
          task,
          maxSeqLen,
          shadow);
    }
  }
}
