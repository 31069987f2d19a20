package io.evalfleet.common.contract;

import io.evalfleet.common.storage.Storage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;

/**
 * Everything about how a score was computed that can move it without the model changing: the
 * execution provider, the ONNX Runtime version, the batch shape, the intra-op threads, whether
 * deterministic compute was on, and the machine. Two runs of the same weights under different
 * envelopes can differ (a dynamically quantised graph by up to 0.037 of a pair's cosine between
 * batch shapes); {@link #differences} names what differs, and {@link #profile} keys the measured
 * noise floor of a model on this kind of machine.
 *
 * <p>Every component may be null (a worker that could not tell, or a shard scored before the
 * envelope was recorded); a null component is never reported as a difference.
 *
 * @param executionProvider the ONNX Runtime execution provider that ran the model, {@code cpu} or
 *     {@code cuda}
 * @param onnxRuntime the ONNX Runtime version, e.g. {@code 1.29.0}
 * @param batching how rows were grouped, as the scorer reports it: {@code padded-batches} (sorted
 *     by length, padded to the longest of each batch), {@code one-at-a-time}, ...
 * @param maxBatchSize the most rows one forward pass held
 * @param intraOpThreads ONNX Runtime's intra-op threads per session
 * @param deterministicCompute whether the sessions asked ONNX Runtime for deterministic kernels
 * @param cpuArch the JVM's {@code os.arch}, e.g. {@code amd64}
 * @param cpuModel the CPU's model name where the machine tells it ({@code /proc/cpuinfo})
 * @param gpu the GPU's name when the model ran on CUDA
 * @param profile the hardware profile: provider, ONNX Runtime, CPU architecture and model and GPU
 *     (not the batch shape, threads or determinism, which a noise floor varies), as a readable
 *     prefix and a digest, e.g. {@code cpu-amd64-1a2b3c4d}; derived when null
 */
public record ScoringEnvelope(
    String executionProvider,
    String onnxRuntime,
    String batching,
    Integer maxBatchSize,
    Integer intraOpThreads,
    Boolean deterministicCompute,
    String cpuArch,
    String cpuModel,
    String gpu,
    String profile) {

  public ScoringEnvelope {
    Checks.optionalPositive(maxBatchSize, "max_batch_size");
    Checks.optionalPositive(intraOpThreads, "intra_op_threads");
    if (profile == null) {
      profile = profileOf(executionProvider, onnxRuntime, cpuArch, cpuModel, gpu);
    }
  }

  /**
   * The hardware profile of a machine: {@code <provider>-<arch>-<8 hex digits>}, the digits those
   * of the SHA-256 of every hardware component, so that two machines with the same CPU architecture
   * but another CPU model, GPU or ONNX Runtime get different profiles.
   */
  public static String profileOf(
      String executionProvider, String onnxRuntime, String cpuArch, String cpuModel, String gpu) {
    String canonical =
        String.join(
            "\n",
            "provider=" + Objects.toString(executionProvider, ""),
            "onnxruntime=" + Objects.toString(onnxRuntime, ""),
            "arch=" + Objects.toString(cpuArch, ""),
            "cpu=" + Objects.toString(cpuModel, ""),
            "gpu=" + Objects.toString(gpu, ""));
    String digest =
        HexFormat.of()
            .formatHex(
                Storage.newDigest().digest(canonical.getBytes(StandardCharsets.UTF_8)), 0, 4);
    return slug(Objects.toString(executionProvider, "unknown"))
        + "-"
        + slug(Objects.toString(cpuArch, "unknown"))
        + "-"
        + digest;
  }

  private static String slug(String value) {
    String slug = value.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_");
    return slug.isEmpty() ? "unknown" : slug;
  }

  /** The batch shape, e.g. {@code padded-batches of at most 32}; null when neither is known. */
  public String batchShape() {
    if (batching == null && maxBatchSize == null) {
      return null;
    }
    return Objects.toString(batching, "unknown batching")
        + (maxBatchSize == null ? "" : " of at most " + maxBatchSize);
  }

  /**
   * What differs between this envelope and {@code other}, each as {@code <what> <this> vs <other>},
   * e.g. {@code ONNX Runtime 1.29.0 vs 1.30.0}; components either side left null are not compared.
   */
  public List<String> differences(ScoringEnvelope other) {
    List<String> differences = new ArrayList<>();
    differ(differences, "execution provider", other, ScoringEnvelope::executionProvider);
    differ(differences, "ONNX Runtime", other, ScoringEnvelope::onnxRuntime);
    differ(differences, "batch shape", other, ScoringEnvelope::batchShape);
    differ(differences, "intra-op threads", other, ScoringEnvelope::intraOpThreads);
    differ(
        differences,
        "deterministic compute",
        other,
        e -> e.deterministicCompute() == null ? null : e.deterministicCompute() ? "on" : "off");
    differ(differences, "CPU architecture", other, ScoringEnvelope::cpuArch);
    differ(differences, "CPU model", other, ScoringEnvelope::cpuModel);
    differ(differences, "GPU", other, ScoringEnvelope::gpu);
    return differences;
  }

  private void differ(
      List<String> differences,
      String what,
      ScoringEnvelope other,
      Function<ScoringEnvelope, Object> component) {
    Object mine = component.apply(this);
    Object theirs = component.apply(other);
    if (mine != null && theirs != null && !mine.equals(theirs)) {
      differences.add(what + " " + mine + " vs " + theirs);
    }
  }

  /** A one-line description, e.g. {@code cpu, onnxruntime 1.29.0, padded-batches of at most 32}. */
  public String describe() {
    List<String> parts = new ArrayList<>();
    if (executionProvider != null) {
      parts.add(executionProvider + (gpu == null ? "" : " (" + gpu + ")"));
    }
    if (onnxRuntime != null) {
      parts.add("onnxruntime " + onnxRuntime);
    }
    if (batchShape() != null) {
      parts.add(batchShape());
    }
    if (intraOpThreads != null) {
      parts.add(intraOpThreads + " intra-op threads");
    }
    if (deterministicCompute != null) {
      parts.add("deterministic compute " + (deterministicCompute ? "on" : "off"));
    }
    if (cpuArch != null) {
      parts.add(cpuArch + (cpuModel == null ? "" : " (" + cpuModel + ")"));
    }
    parts.add("profile " + profile);
    return String.join(", ", parts);
  }

  /** A new {@code ScoringEnvelope}, set by component name. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from this envelope's components, to build a changed copy. */
  public Builder toBuilder() {
    Builder builder = new Builder();
    builder.executionProvider = executionProvider;
    builder.onnxRuntime = onnxRuntime;
    builder.batching = batching;
    builder.maxBatchSize = maxBatchSize;
    builder.intraOpThreads = intraOpThreads;
    builder.deterministicCompute = deterministicCompute;
    builder.cpuArch = cpuArch;
    builder.cpuModel = cpuModel;
    builder.gpu = gpu;
    builder.profile = profile;
    return builder;
  }

  /** Builds a {@link ScoringEnvelope}; a component left unset is null. */
  public static final class Builder {
    private String executionProvider;
    private String onnxRuntime;
    private String batching;
    private Integer maxBatchSize;
    private Integer intraOpThreads;
    private Boolean deterministicCompute;
    private String cpuArch;
    private String cpuModel;
    private String gpu;
    private String profile;

    private Builder() {}

    public Builder executionProvider(String executionProvider) {
      this.executionProvider = executionProvider;
      return this;
    }

    public Builder onnxRuntime(String onnxRuntime) {
      this.onnxRuntime = onnxRuntime;
      return this;
    }

    public Builder batching(String batching) {
      this.batching = batching;
      return this;
    }

    public Builder maxBatchSize(Integer maxBatchSize) {
      this.maxBatchSize = maxBatchSize;
      return this;
    }

    public Builder intraOpThreads(Integer intraOpThreads) {
      this.intraOpThreads = intraOpThreads;
      return this;
    }

    public Builder deterministicCompute(Boolean deterministicCompute) {
      this.deterministicCompute = deterministicCompute;
      return this;
    }

    public Builder cpuArch(String cpuArch) {
      this.cpuArch = cpuArch;
      return this;
    }

    public Builder cpuModel(String cpuModel) {
      this.cpuModel = cpuModel;
      return this;
    }

    public Builder gpu(String gpu) {
      this.gpu = gpu;
      return this;
    }

    /** Left unset, the profile is derived from the hardware components. */
    public Builder profile(String profile) {
      this.profile = profile;
      return this;
    }

    /**
     * @throws ContractViolation when the batch size or the thread count is not positive
     */
    public ScoringEnvelope build() {
      return new ScoringEnvelope(
          executionProvider,
          onnxRuntime,
          batching,
          maxBatchSize,
          intraOpThreads,
          deterministicCompute,
          cpuArch,
          cpuModel,
          gpu,
          profile);
    }
  }
}
