package io.evalfleet.dispatcher.decision;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.DeserializationProblemHandler;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.evalfleet.common.contract.ChangeKind;
import io.evalfleet.common.task.Direction;
import io.evalfleet.common.task.MetricSpec;
import io.evalfleet.common.task.Task;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads a {@link Policy} from its JSON file (snake_case fields, every field required but {@code
 * token_shift} and {@code models}, whose absence means {@link ChangePolicy#DEFAULT}). All problems
 * — unknown fields, unknown enum names, missing fields, bad values — are collected and thrown
 * together in one {@link InvalidPolicyException} whose message names the file, so a policy change
 * fails review once, not once per mistake.
 */
public final class PolicyFile {
  /**
   * Classpath resource holding the policy used when none is given; a copy of {@code
   * policy/evalfleet-policy.json}.
   */
  public static final String DEFAULT_RESOURCE = "evalfleet-policy.json";

  private PolicyFile() {}

  /**
   * The policy in {@code file}.
   *
   * @throws InvalidPolicyException listing every problem, naming the file
   * @throws UncheckedIOException when the file cannot be read
   */
  public static Policy load(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return read(in, file.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read policy file " + file, e);
    }
  }

  /** The default policy, from the classpath resource {@value #DEFAULT_RESOURCE}. */
  public static Policy defaults() {
    try (InputStream in = PolicyFile.class.getClassLoader().getResourceAsStream(DEFAULT_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("classpath resource " + DEFAULT_RESOURCE + " is missing");
      }
      return read(in, "classpath:" + DEFAULT_RESOURCE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read classpath resource " + DEFAULT_RESOURCE, e);
    }
  }

  /** The policy in {@code json}; {@code source} names it in messages. */
  public static Policy read(InputStream json, String source) throws IOException {
    List<String> problems = new ArrayList<>();
    RawPolicy raw;
    try {
      raw = mapper(problems).readValue(json, RawPolicy.class);
    } catch (JsonProcessingException e) {
      problems.add(e.getOriginalMessage() + " at " + e.getLocation().offsetDescription());
      throw new InvalidPolicyException("policy file " + source, problems);
    }
    if (raw == null) {
      throw new InvalidPolicyException(
          "policy file " + source, List.of("the file holds no JSON object"));
    }
    problems.addAll(raw.problems());
    if (!problems.isEmpty()) {
      throw new InvalidPolicyException("policy file " + source, problems);
    }
    return raw.toPolicy();
  }

  private static ObjectMapper mapper(List<String> problems) {
    return JsonMapper.builder()
        .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
        .addHandler(new CollectingHandler(problems))
        .build();
  }

  /** Records unknown fields instead of failing at the first one. */
  private static final class CollectingHandler extends DeserializationProblemHandler {
    private final List<String> problems;

    CollectingHandler(List<String> problems) {
      this.problems = problems;
    }

    @Override
    public boolean handleUnknownProperty(
        DeserializationContext ctxt,
        JsonParser p,
        JsonDeserializer<?> deserializer,
        Object beanOrClass,
        String propertyName)
        throws IOException {
      problems.add("unknown field '" + path(p, propertyName) + "'");
      p.skipChildren();
      return true;
    }

    private static String path(JsonParser p, String last) {
      List<String> names = new ArrayList<>();
      for (var context = p.getParsingContext(); context != null; context = context.getParent()) {
        if (context.getCurrentName() != null) {
          names.add(0, context.getCurrentName());
        }
      }
      if (last != null && (names.isEmpty() || !names.get(names.size() - 1).equals(last))) {
        names.add(last);
      }
      return String.join(".", names);
    }
  }

  /** The file as written: boxed so that a missing field is told from a zero. */
  private record RawPolicy(
      @JsonProperty("policy_version") String policyVersion,
      @JsonProperty("family_confidence") Double familyConfidence,
      @JsonProperty("bootstrap_resamples") Integer bootstrapResamples,
      @JsonProperty("seed") Long seed,
      @JsonProperty("correction") String correction,
      @JsonProperty("band_k") Double bandK,
      @JsonProperty("band_min_snapshots") Integer bandMinSnapshots,
      @JsonProperty("band_window") Integer bandWindow,
      @JsonProperty("metrics") Map<String, RawMetric> metrics,
      @JsonProperty("token_shift") String tokenShift,
      @JsonProperty("models") Map<String, RawModel> models,
      @JsonProperty("sequential") RawSequential sequential,
      @JsonProperty("noise_floor") RawNoiseFloor noiseFloor) {

    List<String> problems() {
      List<String> problems = new ArrayList<>();
      if (policyVersion == null || policyVersion.isBlank()) {
        problems.add("policy_version is missing or blank");
      }
      missing(problems, "family_confidence", familyConfidence);
      missing(problems, "bootstrap_resamples", bootstrapResamples);
      missing(problems, "seed", seed);
      missing(problems, "band_k", bandK);
      missing(problems, "band_min_snapshots", bandMinSnapshots);
      missing(problems, "band_window", bandWindow);
      problems.addAll(
          Policy.settingProblems(
              familyConfidence, bootstrapResamples, bandK, bandMinSnapshots, bandWindow));
      enumProblem(problems, "correction", correction, Correction.class);
      if (metrics == null || metrics.isEmpty()) {
        problems.add("metrics must name at least one metric");
      } else {
        metrics.forEach(
            (name, metric) -> {
              if (metric == null) {
                problems.add("metrics." + name + " is null");
              } else {
                problems.addAll(metric.problems("metrics." + name, name));
              }
            });
      }
      if (tokenShift != null) {
        enumProblem(problems, "token_shift", tokenShift, ChangePolicy.TokenShift.class);
      }
      if (models != null) {
        models.forEach(
            (name, model) -> {
              if (model == null) {
                problems.add("models." + name + " is null");
              } else {
                problems.addAll(model.problems("models." + name));
              }
            });
      }
      if (sequential != null) {
        problems.addAll(sequential.problems());
      }
      if (noiseFloor != null && noiseFloor.acrossEnvelopes() != null) {
        enumProblem(
            problems,
            "noise_floor.across_envelopes",
            noiseFloor.acrossEnvelopes(),
            NoiseFloorPolicy.AcrossEnvelopes.class);
      }
      return problems;
    }

    /** The early-stopping settings: off without a "sequential" object. */
    SequentialSettings sequentialSettings() {
      if (sequential == null) {
        return SequentialSettings.DISABLED;
      }
      Map<String, Boolean> switches = new LinkedHashMap<>();
      metrics.forEach(
          (name, metric) -> {
            if (metric.sequential() != null) {
              switches.put(name, metric.sequential());
            }
          });
      return new SequentialSettings(
          sequential.enabled(),
          sequential.minRowsOrDefault(),
          sequential.tuningRowsOrDefault(),
          sequential.alphaShareOrDefault(),
          switches);
    }

    Policy toPolicy() {
      Map<String, MetricPolicy> byName = new LinkedHashMap<>();
      metrics.forEach((name, metric) -> byName.put(name, metric.toMetricPolicy(name)));
      return new Policy(
          policyVersion,
          familyConfidence,
          bootstrapResamples,
          seed,
          parse(Correction.class, correction),
          bandK,
          bandMinSnapshots,
          bandWindow,
          byName,
          sequentialSettings(),
          noiseFloor == null || noiseFloor.acrossEnvelopes() == null
              ? NoiseFloorPolicy.DEFAULTS
              : new NoiseFloorPolicy(
                  parse(NoiseFloorPolicy.AcrossEnvelopes.class, noiseFloor.acrossEnvelopes())),
          changes());
    }

    ChangePolicy changes() {
      Map<String, ChangePolicy.ModelChange> byModel = new LinkedHashMap<>();
      if (models != null) {
        models.forEach((name, model) -> byModel.put(name, model.toModelChange()));
      }
      return new ChangePolicy(
          tokenShift == null ? null : parse(ChangePolicy.TokenShift.class, tokenShift), byModel);
    }
  }

  /** One model's entry under {@code models}. */
  private record RawModel(
      @JsonProperty("change_kind") String changeKind,
      @JsonProperty("token_shift") String tokenShift) {

    List<String> problems(String path) {
      List<String> problems = new ArrayList<>();
      if (changeKind == null && tokenShift == null) {
        problems.add(path + " sets neither change_kind nor token_shift");
      }
      if (changeKind != null && ChangeKind.parse(changeKind).isEmpty()) {
        problems.add(
            "unknown "
                + path
                + ".change_kind '"
                + changeKind
                + "' (one of "
                + String.join(", ", ChangeKind.wireNames())
                + ")");
      }
      if (tokenShift != null) {
        enumProblem(problems, path + ".token_shift", tokenShift, ChangePolicy.TokenShift.class);
      }
      return problems;
    }

    ChangePolicy.ModelChange toModelChange() {
      return new ChangePolicy.ModelChange(
          changeKind == null ? null : ChangeKind.of(changeKind),
          tokenShift == null ? null : parse(ChangePolicy.TokenShift.class, tokenShift));
    }
  }

  /** The policy's "sequential" object: whether and how a run may stop early. */
  private record RawSequential(
      @JsonProperty("enabled") Boolean enabled,
      @JsonProperty("min_rows") Integer minRows,
      @JsonProperty("tuning_rows") Integer tuningRows,
      @JsonProperty("alpha_share") Double alphaShare) {

    List<String> problems() {
      List<String> problems = new ArrayList<>();
      missing(problems, "sequential.enabled", enabled);
      problems.addAll(
          SequentialSettings.problems(
              minRowsOrDefault(), tuningRowsOrDefault(), alphaShareOrDefault(), Map.of()));
      return problems;
    }

    int minRowsOrDefault() {
      return minRows == null ? SequentialSettings.DEFAULT_MIN_ROWS : minRows;
    }

    int tuningRowsOrDefault() {
      return tuningRows == null ? SequentialSettings.DEFAULT_TUNING_ROWS : tuningRows;
    }

    double alphaShareOrDefault() {
      return alphaShare == null ? SequentialSettings.DEFAULT_ALPHA_SHARE : alphaShare;
    }
  }

  /**
   * The optional {@code noise_floor} section; absent, comparisons across envelopes are widened by a
   * measured floor.
   */
  private record RawNoiseFloor(@JsonProperty("across_envelopes") String acrossEnvelopes) {}

  private record RawMetric(
      @JsonProperty("direction") String direction,
      @JsonProperty("margin") Double margin,
      @JsonProperty("limit") Double limit,
      @JsonProperty("gate") JsonNode gate,
      @JsonProperty("sequential") Boolean sequential) {

    /**
     * A metric a task produces takes its direction from the task; the file may repeat it but not
     * contradict it. A metric no task produces must say its direction. Each metric has a margin
     * (compared with its baseline) or a limit (judged on its own value), not both.
     */
    List<String> problems(String path, String name) {
      List<String> problems = new ArrayList<>();
      if (margin == null && limit == null) {
        problems.add(
            path + ".margin is missing (or a limit, for a metric judged on its own value)");
      } else if (margin != null && limit != null) {
        problems.add(
            path
                + " has both a margin and a limit: a metric is compared with its baseline (margin)"
                + " or judged on its own value (limit), not both");
      }
      missing(problems, path + ".gate", gate == null || gate.isNull() ? null : gate);
      problems.addAll(gateProblems(path + ".gate"));
      Optional<MetricSpec> produced = Task.metricSpec(name);
      if (direction != null || produced.isEmpty()) {
        enumProblem(problems, path + ".direction", direction, Direction.class);
      }
      Direction stated = direction == null ? null : parse(Direction.class, direction);
      if (produced.isPresent() && stated != null && stated != produced.get().direction()) {
        problems.add(
            path
                + ".direction is "
                + direction
                + ", but "
                + name
                + " is "
                + produced.get().direction().wireName()
                + " by its task's definition");
      }
      problems.addAll(MetricPolicy.marginProblems(path + ".margin", margin));
      if (Boolean.TRUE.equals(sequential) && !SequentialSettings.judgeable(name)) {
        problems.add(SequentialSettings.metricProblem(path + ".sequential", name));
      }
      Direction effective = produced.map(MetricSpec::direction).orElse(stated);
      if (effective != null) {
        problems.addAll(MetricPolicy.limitProblems(path + ".limit", limit, effective));
      }
      return problems;
    }

    MetricPolicy toMetricPolicy(String name) {
      Direction direction =
          Task.metricSpec(name)
              .map(MetricSpec::direction)
              .orElseGet(() -> parse(Direction.class, this.direction));
      MetricPolicy rule =
          limit != null
              ? MetricPolicy.limited(direction, limit, gate.isBoolean() && gate.asBoolean())
              : new MetricPolicy(direction, margin, gate.isBoolean() && gate.asBoolean());
      return gate.isArray() ? rule.gatingFor(gateFor()) : rule;
    }

    /**
     * {@code gate} is true (gates for every kind of change), false (reported only) or a list of the
     * change kinds it gates for.
     */
    private List<String> gateProblems(String path) {
      if (gate == null || gate.isNull() || gate.isBoolean()) {
        return List.of();
      }
      String accepted =
          "must be true, false or a list of change kinds ("
              + String.join(", ", ChangeKind.wireNames())
              + ")";
      if (!gate.isArray()) {
        return List.of(path + " " + accepted + ", was " + gate);
      }
      List<String> problems = new ArrayList<>();
      if (gate.isEmpty()) {
        problems.add(path + " lists no change kind (false, not [], reports a metric only)");
      }
      Set<String> seen = new HashSet<>();
      for (JsonNode kind : gate) {
        if (!kind.isTextual() || ChangeKind.parse(kind.asText()).isEmpty()) {
          problems.add(path + " " + accepted + "; " + kind + " is not one");
        } else if (!seen.add(kind.asText())) {
          problems.add(path + " lists " + kind + " twice");
        }
      }
      return problems;
    }

    private Set<ChangeKind> gateFor() {
      Set<ChangeKind> kinds = EnumSet.noneOf(ChangeKind.class);
      gate.forEach(kind -> kinds.add(ChangeKind.of(kind.asText())));
      return kinds;
    }
  }

  private static <E extends Enum<E>> void enumProblem(
      List<String> problems, String field, String value, Class<E> type) {
    if (value == null) {
      problems.add(field + " is missing (one of " + wireNames(type) + ")");
    } else if (parse(type, value) == null) {
      problems.add("unknown " + field + " '" + value + "' (one of " + wireNames(type) + ")");
    }
  }

  private static <E extends Enum<E>> E parse(Class<E> type, String wireName) {
    for (E constant : type.getEnumConstants()) {
      if (constant.name().toLowerCase().equals(wireName)) {
        return constant;
      }
    }
    return null;
  }

  private static String wireNames(Class<? extends Enum<?>> type) {
    List<String> names = new ArrayList<>();
    for (Enum<?> constant : type.getEnumConstants()) {
      names.add(constant.name().toLowerCase());
    }
    return String.join(", ", names);
  }

  private static void missing(List<String> problems, String field, Object value) {
    if (value == null) {
      problems.add(field + " is missing");
    }
  }
}
