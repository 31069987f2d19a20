package io.evalfleet.common.config;

import java.time.Duration;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * One configuration key: its name, default, parser, validation and documentation, kept together (in
 * the manner of Kafka's {@code ConfigDef}).
 */
public record Setting<T>(
    String key,
    String defaultValue,
    Function<String, T> parser,
    Predicate<T> valid,
    String rule,
    String doc) {

  static Setting<Integer> positiveInt(String key, int defaultValue, String doc) {
    return new Setting<>(
        key,
        Integer.toString(defaultValue),
        Integer::valueOf,
        v -> v > 0,
        "a positive integer",
        doc);
  }

  static Setting<Duration> duration(String key, String defaultValue, String doc) {
    return new Setting<>(
        key,
        defaultValue,
        Duration::parse,
        d -> !d.isNegative() && !d.isZero(),
        "a positive ISO-8601 duration such as PT30S",
        doc);
  }

  static Setting<String> text(String key, String defaultValue, String doc) {
    return new Setting<>(key, defaultValue, s -> s, s -> !s.isBlank(), "a non-empty string", doc);
  }

  /** Environment variable that may override this key: {@code EVALFLEET_} + upper snake case. */
  public String envName() {
    return "EVALFLEET_" + key.toUpperCase().replace('.', '_').replace('-', '_');
  }
}
