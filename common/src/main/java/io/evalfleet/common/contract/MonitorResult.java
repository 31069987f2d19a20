package io.evalfleet.common.contract;

import java.time.Instant;
import java.util.Map;

/**
 * One scheduled check of a production model on its traffic, published by the monitor on {@code
 * evalfleet.monitor} (keyed by model name) and kept in the archive's history: a sample of the
 * current window's texts, embedded by the production model, tested against the reference window's
 * with the MMD² permutation test.
 *
 * @param texts texts sampled from the current window; 0 with {@code evidence} saying why nothing
 *     was tested (too little traffic)
 * @param pValue the permutation p-value of "the current window is distributed as the reference"
 * @param drifted {@code pValue <= alpha}: at most {@code alpha} of undrifted windows alarm
 * @param episodeStart for a drifted window, the end of the first window of its run of drifted
 *     windows: one drift episode, one retraining cause
 * @param perplexity causal LM: the window sample's perplexity (pooled over tokens); {@code
 *     referencePerplexity} the reference sample's. For a causal LM the p-value is a permutation
 *     test of rows on the difference of NLL per token, and {@code mmd2} is absent
 * @param shadow with a shadow candidate: its token shift from the production model on the window's
 *     texts ({@code kl_mean}, {@code kl_p99}, {@code top1_agreement})
 */
public record MonitorResult(
    Integer schemaVersion,
    String model,
    String version,
    Instant windowStart,
    Instant windowEnd,
    Instant referenceStart,
    Instant referenceEnd,
    int texts,
    int referenceTexts,
    Double mmd2,
    Double pValue,
    double alpha,
    boolean drifted,
    Instant episodeStart,
    String evidence,
    Instant evaluatedAt,
    Double perplexity,
    Double referencePerplexity,
    Map<String, Double> shadow) {

  public MonitorResult {
    shadow = shadow == null ? Map.of() : Map.copyOf(shadow);
    Checks.schemaVersion(schemaVersion);
    Checks.identifier(model, "model");
    Checks.required(windowEnd, "window_end");
  }

  /**
   * A new {@code MonitorResult}, set by component name; {@link Builder#build()} runs the
   * constructor's checks.
   */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from this MonitorResult's components, to build a changed copy. */
  public Builder toBuilder() {
    Builder builder = new Builder();
    builder.schemaVersion = schemaVersion;
    builder.model = model;
    builder.version = version;
    builder.windowStart = windowStart;
    builder.windowEnd = windowEnd;
    builder.referenceStart = referenceStart;
    builder.referenceEnd = referenceEnd;
    builder.texts = texts;
    builder.referenceTexts = referenceTexts;
    builder.mmd2 = mmd2;
    builder.pValue = pValue;
    builder.alpha = alpha;
    builder.drifted = drifted;
    builder.episodeStart = episodeStart;
    builder.evidence = evidence;
    builder.evaluatedAt = evaluatedAt;
    builder.perplexity = perplexity;
    builder.referencePerplexity = referencePerplexity;
    builder.shadow = shadow;
    return builder;
  }

  /**
   * Builds a {@link MonitorResult}; a component left unset is null (0 or false for a primitive),
   * except {@code schemaVersion}, which defaults to {@link SchemaVersion#CURRENT}.
   */
  public static final class Builder {
    private Integer schemaVersion = SchemaVersion.CURRENT;
    private String model;
    private String version;
    private Instant windowStart;
    private Instant windowEnd;
    private Instant referenceStart;
    private Instant referenceEnd;
    private int texts;
    private int referenceTexts;
    private Double mmd2;
    private Double pValue;
    private double alpha;
    private boolean drifted;
    private Instant episodeStart;
    private String evidence;
    private Instant evaluatedAt;
    private Double perplexity;
    private Double referencePerplexity;
    private Map<String, Double> shadow;

    private Builder() {}

    public Builder schemaVersion(Integer schemaVersion) {
      this.schemaVersion = schemaVersion;
      return this;
    }

    public Builder model(String model) {
      this.model = model;
      return this;
    }

    public Builder version(String version) {
      this.version = version;
      return this;
    }

    public Builder windowStart(Instant windowStart) {
      this.windowStart = windowStart;
      return this;
    }

    public Builder windowEnd(Instant windowEnd) {
      this.windowEnd = windowEnd;
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

    public Builder texts(int texts) {
      this.texts = texts;
      return this;
    }

    public Builder referenceTexts(int referenceTexts) {
      this.referenceTexts = referenceTexts;
      return this;
    }

    public Builder mmd2(Double mmd2) {
      this.mmd2 = mmd2;
      return this;
    }

    public Builder pValue(Double pValue) {
      this.pValue = pValue;
      return this;
    }

    public Builder alpha(double alpha) {
      this.alpha = alpha;
      return this;
    }

    public Builder drifted(boolean drifted) {
      this.drifted = drifted;
      return this;
    }

    public Builder episodeStart(Instant episodeStart) {
      this.episodeStart = episodeStart;
      return this;
    }

    public Builder evidence(String evidence) {
      this.evidence = evidence;
      return this;
    }

    public Builder evaluatedAt(Instant evaluatedAt) {
      this.evaluatedAt = evaluatedAt;
      return this;
    }

    public Builder perplexity(Double perplexity) {
      this.perplexity = perplexity;
      return this;
    }

    public Builder referencePerplexity(Double referencePerplexity) {
      this.referencePerplexity = referencePerplexity;
      return this;
    }

    public Builder shadow(Map<String, Double> shadow) {
      this.shadow = shadow;
      return this;
    }

    /**
     * @throws ContractViolation where the record's checks refuse a component
     */
    public MonitorResult build() {
      return new MonitorResult(
          schemaVersion,
          model,
          version,
          windowStart,
          windowEnd,
          referenceStart,
          referenceEnd,
          texts,
          referenceTexts,
          mmd2,
          pValue,
          alpha,
          drifted,
          episodeStart,
          evidence,
          evaluatedAt,
          perplexity,
          referencePerplexity,
          shadow);
    }
  }
}
