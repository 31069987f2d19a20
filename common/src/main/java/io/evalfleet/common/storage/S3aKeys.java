package io.evalfleet.common.storage;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.commons.text.similarity.LevenshteinDistance;
import org.apache.hadoop.conf.Configuration;

/**
 * The {@code fs.s3a.*} keys S3A knows, to catch a mistyped {@code hadoop.fs.s3a.*} setting: Hadoop
 * itself ignores a key it does not know, so {@code hadoop.fs.s3a.endpont} would quietly send every
 * request to AWS. Known keys are S3A's own constants and the {@code fs.s3a.*} keys of Hadoop's
 * {@code core-default.xml}; a per-bucket key {@code fs.s3a.bucket.NAME.KEY} is checked as {@code
 * fs.s3a.KEY}. Unknown keys are reported, not refused: S3A's extensions may read keys of their own.
 */
public final class S3aKeys {
  private static final String PREFIX = "fs.s3a.";
  private static final String BUCKET = "fs.s3a.bucket.";

  /** Keys every Hadoop file system reads for its scheme. */
  private static final List<String> FILE_SYSTEM_KEYS =
      List.of("fs.s3a.impl", "fs.s3a.impl.disable.cache");

  private static final int MAX_DISTANCE = 3;

  private static volatile Set<String> known;

  private S3aKeys() {}

  /**
   * One line for each {@code settings} key under {@code fs.s3a.} that S3A does not know, naming the
   * nearest known key; empty when all are known or the S3 connector is not on the classpath.
   *
   * @param settings Hadoop keys, without the fleet's {@code hadoop.} prefix
   */
  public static List<String> unknown(Map<String, String> settings) {
    List<String> problems = new ArrayList<>();
    for (String key : new TreeSet<>(settings.keySet())) {
      if (!key.startsWith(PREFIX)) {
        continue;
      }
      Set<String> keys = known();
      if (keys.isEmpty()) {
        return List.of();
      }
      String general = general(key);
      if (keys.contains(general)) {
        continue;
      }
      String problem = "hadoop." + key + " is no S3A setting, and Hadoop ignores it";
      Optional<String> nearest = nearest(general, keys);
      if (nearest.isPresent()) {
        String suggestion =
            general.equals(key)
                ? nearest.get()
                : key.substring(0, key.length() - general.length() + PREFIX.length())
                    + nearest.get().substring(PREFIX.length());
        problem += " (did you mean hadoop." + suggestion + "?)";
      }
      problems.add(problem);
    }
    return problems;
  }

  /** {@code fs.s3a.bucket.NAME.KEY} as {@code fs.s3a.KEY}; other keys as they are. */
  private static String general(String key) {
    if (!key.startsWith(BUCKET)) {
      return key;
    }
    int dot = key.indexOf('.', BUCKET.length());
    return dot < 0 ? key : PREFIX + key.substring(dot + 1);
  }

  private static Optional<String> nearest(String key, Set<String> keys) {
    LevenshteinDistance distance = new LevenshteinDistance(MAX_DISTANCE);
    return keys.stream()
        .filter(k -> distance.apply(key, k) >= 0)
        .min(Comparator.comparingInt((String k) -> distance.apply(key, k)).thenComparing(k -> k));
  }

  private static Set<String> known() {
    Set<String> keys = known;
    if (keys == null) {
      keys = load();
      known = keys;
    }
    return keys;
  }

  private static Set<String> load() {
    Set<String> keys = new TreeSet<>(FILE_SYSTEM_KEYS);
    try {
      for (Field field : Class.forName("org.apache.hadoop.fs.s3a.Constants").getFields()) {
        if (Modifier.isStatic(field.getModifiers())
            && field.getType() == String.class
            && field.get(null) instanceof String value
            && value.startsWith(PREFIX)) {
          keys.add(value);
        }
      }
    } catch (ReflectiveOperationException | LinkageError e) {
      return Set.of(); // no S3 connector: nothing to check against
    }
    for (Map.Entry<String, String> entry : new Configuration()) {
      if (entry.getKey().startsWith(PREFIX)) {
        keys.add(entry.getKey());
      }
    }
    return Set.copyOf(keys);
  }
}
