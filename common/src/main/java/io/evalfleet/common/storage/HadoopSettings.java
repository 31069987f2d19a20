package io.evalfleet.common.storage;

import java.util.Arrays;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;

/**
 * The Hadoop configuration the fleet reads and writes files with: Hadoop's defaults and any {@code
 * core-site.xml} on the classpath, then the fleet's own defaults for object stores ({@link
 * #FLEET_DEFAULTS}) where no site file set the key, then the {@code hadoop.*} settings.
 */
public final class HadoopSettings {
  /**
   * S3A retries an unreachable endpoint for about two minutes by default (the SDK's attempts times
   * its own retry limit), far past a run's patience: the fleet's storage retry, circuit breaker and
   * run deadline are what decide when an outage ends a run, so S3A gives up quickly and says why.
   *
   * <p>S3A reads through its classic input stream: Parquet opens a subset with the read policy
   * {@code parquet, vector, random}, under which that stream asks for the ranges Parquet reads and
   * no more, so a job of 1/50 of a subset in 200 row groups asked for its share plus the footer
   * (2.58 MB of 104 MB), where S3A 3.5's default analytics stream asked for 3.95 MB (it prefetches
   * past the footer) and the prefetching stream for 53 MB ({@code ShardSizedReadsIT}). Whole-file
   * reads (model downloads) keep S3A's default read policy, sequential until a backward seek.
   */
  public static final Map<String, String> FLEET_DEFAULTS =
      Map.of(
          // Shard-sized reads of golden subsets (see above).
          "fs.s3a.input.stream.type", "classic",
          // Outages.
          "fs.s3a.attempts.maximum", "2",
          "fs.s3a.retry.limit", "2",
          "fs.s3a.retry.interval", "200ms",
          "fs.s3a.connection.establish.timeout", "5s");

  private HadoopSettings() {}

  /** A configuration with the fleet's defaults under {@code settings}. */
  public static Configuration of(Map<String, String> settings) {
    Configuration conf = new Configuration();
    FLEET_DEFAULTS.forEach(
        (key, value) -> {
          if (onlyHadoopsDefault(conf, key)) {
            conf.set(key, value, "evalfleet default");
          }
        });
    settings.forEach((key, value) -> conf.set(key, value, "evalfleet setting hadoop." + key));
    return conf;
  }

  /** Whether {@code key} is unset or set only by Hadoop's own {@code *-default.xml} files. */
  private static boolean onlyHadoopsDefault(Configuration conf, String key) {
    String[] sources = conf.getPropertySources(key);
    return sources == null || Arrays.stream(sources).allMatch(s -> s.endsWith("-default.xml"));
  }
}
