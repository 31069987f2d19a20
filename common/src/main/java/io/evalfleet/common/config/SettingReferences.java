package io.evalfleet.common.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigTransformer;
import org.apache.kafka.common.config.provider.ConfigProvider;
import org.apache.kafka.common.config.provider.DirectoryConfigProvider;
import org.apache.kafka.common.config.provider.EnvVarConfigProvider;
import org.apache.kafka.common.config.provider.FileConfigProvider;

/**
 * Resolves references in setting values with Kafka's own {@link ConfigTransformer} and providers:
 * {@code ${env:NAME}} (an environment variable), {@code ${file:PATH:KEY}} (a key of a properties
 * file) and {@code ${dir:DIR:NAME}} (the whole content of the file {@code NAME} in {@code DIR}, as
 * a mounted Kubernetes Secret holds it). A reference that finds nothing, or finds an empty value,
 * is a problem naming the setting and the reference, never a value.
 *
 * <p>The providers are built here rather than named in Kafka's {@code config.providers}, so the
 * {@code org.apache.kafka.automatic.config.providers} system property does not restrict them; the
 * configuration is the operator's own, so no {@code allowed.paths} or {@code allowlist.pattern} is
 * set. Not thread-safe; closes its providers.
 */
final class SettingReferences implements AutoCloseable {
  /** Kafka's reference syntax: provider, optional path, key. */
  static final Pattern REFERENCE = ConfigTransformer.DEFAULT_PATTERN;

  private static final String VALUE = "value";

  private final Map<String, ConfigProvider> providers = new LinkedHashMap<>();
  private final ConfigTransformer transformer;

  /** {@code env} feeds {@code ${env:...}}: the process environment in production. */
  SettingReferences(Map<String, String> env) {
    providers.put("env", new EnvVarConfigProvider(env));
    providers.put("file", new FileConfigProvider());
    providers.put("dir", new DirectoryConfigProvider());
    providers.values().forEach(p -> p.configure(Map.of()));
    transformer = new ConfigTransformer(providers);
  }

  /** Whether {@code text} holds at least one reference. */
  static boolean hasReference(String text) {
    return text != null && REFERENCE.matcher(text).find();
  }

  /** Whether {@code text} is nothing but references (and blanks): it holds no literal value. */
  static boolean isOnlyReferences(String text) {
    return REFERENCE.matcher(text).replaceAll("").isBlank();
  }

  /**
   * {@code value} of setting {@code key} with its references replaced, or {@code null} after adding
   * a problem to {@code problems}. Each reference's resolved value goes to {@code resolved}.
   */
  String resolve(
      String key, String value, List<String> problems, BiConsumer<String, String> resolved) {
    List<String> references = new ArrayList<>();
    Matcher matcher = REFERENCE.matcher(value);
    while (matcher.find()) {
      references.add(matcher.group());
    }
    // each reference alone next to the whole value, so that every one is checked on its own
    Map<String, String> request = new LinkedHashMap<>();
    request.put(VALUE, value);
    for (int i = 0; i < references.size(); i++) {
      request.put(Integer.toString(i), references.get(i));
    }
    Map<String, String> data;
    try {
      data = transformer.transform(request).data();
    } catch (ConfigException e) {
      // Kafka's messages name the file or directory, never its content
      problems.add("setting '" + key + "': cannot resolve " + references + ": " + e.getMessage());
      return null;
    }
    boolean ok = true;
    for (int i = 0; i < references.size(); i++) {
      String reference = references.get(i);
      String found = data.get(Integer.toString(i));
      String provider = providerOf(reference);
      if (!providers.containsKey(provider)) {
        problems.add(
            "setting '"
                + key
                + "': reference '"
                + reference
                + "' names an unknown provider '"
                + provider
                + "' (known: env, file, dir)");
        ok = false;
      } else if (found == null || found.equals(reference)) {
        problems.add(
            "setting '"
                + key
                + "': reference '"
                + reference
                + "' found nothing: "
                + hint(provider));
        ok = false;
      } else if (found.isEmpty()) {
        problems.add(
            "setting '"
                + key
                + "': reference '"
                + reference
                + "' resolves to an empty value; leave the setting out instead");
        ok = false;
      } else {
        resolved.accept(reference, found);
      }
    }
    return ok ? data.get(VALUE) : null;
  }

  private static String providerOf(String reference) {
    Matcher matcher = REFERENCE.matcher(reference);
    return matcher.matches() ? matcher.group(1) : "";
  }

  private static String hint(String provider) {
    return switch (provider) {
      case "env" -> "no such environment variable";
      case "file" -> "no such key in the properties file, or no such file";
      default -> "no such file in the directory, or no such directory";
    };
  }

  @Override
  public void close() {
    for (ConfigProvider provider : providers.values()) {
      try {
        provider.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
