package io.evalfleet.common.config;

import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

/**
 * The secret values this process has loaded ({@link FleetConfig} registers them), so that log
 * output can mask any occurrence of them: a defence in depth behind redacted printing. Values
 * shorter than {@value #SHORTEST} characters are not registered: masking them would garble every
 * line. Thread-safe.
 */
public final class SecretValues {
  /** The shortest value registered. */
  public static final int SHORTEST = 4;

  private static final Set<String> VALUES = ConcurrentHashMap.newKeySet();

  private SecretValues() {}

  /** Remembers {@code value} as a secret of this process. */
  public static void register(String value) {
    if (value != null && value.length() >= SHORTEST) {
      VALUES.add(value);
    }
  }

  /**
   * {@code text} with every registered secret, and every secret as {@code encoding} writes it (a
   * JSON string's escaping, say), replaced by {@link FleetConfig#REDACTED}.
   */
  public static String mask(String text, UnaryOperator<String> encoding) {
    if (VALUES.isEmpty() || text == null) {
      return text;
    }
    // longest first, so that a secret holding another is masked whole
    List<String> secrets =
        VALUES.stream().sorted(Comparator.comparingInt(String::length).reversed()).toList();
    String masked = text;
    for (String secret : secrets) {
      masked = masked.replace(secret, FleetConfig.REDACTED);
      String encoded = encoding.apply(secret);
      if (!encoded.equals(secret)) {
        masked = masked.replace(encoded, FleetConfig.REDACTED);
      }
    }
    return masked;
  }

  /** {@link #mask(String, UnaryOperator)} of the secrets as they are. */
  public static String mask(String text) {
    return mask(text, UnaryOperator.identity());
  }
}
