package io.evalfleet.common.storage;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.conf.Configuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Hadoop configuration the fleet reads and writes files with, lowest precedence first: Hadoop's
 * defaults and any {@code core-site.xml} on the classpath; {@code core-site.xml} and {@code
 * hdfs-site.xml} in the folder the {@code HADOOP_CONF_DIR} environment variable names, as Hadoop's
 * own tools read them; the fleet's own defaults for object stores ({@link #FLEET_DEFAULTS}) where
 * no site file set the key; then the {@code hadoop.*} settings.
 */
public final class HadoopSettings {
  /** The environment variable that names the folder of a Hadoop client's site files. */
  public static final String CONF_DIR_ENV = "HADOOP_CONF_DIR";

  /** The site files read from {@link #CONF_DIR_ENV}, in order. */
  public static final String[] SITE_FILES = {"core-site.xml", "hdfs-site.xml"};

  /**
   * S3A's own key pair settings first ({@code fs.s3a.access.key}, {@code fs.s3a.secret.key}, with
   * {@code fs.s3a.session.token} for temporary ones), then the AWS SDK's standard chain ({@link
   * StandardAwsCredentials}): environment, system properties, web identity, profile file,
   * container, instance. S3A's own default list leaves out the profile file and web identity.
   */
  public static final String CREDENTIAL_PROVIDERS =
      String.join(
          ",",
          "org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider",
          "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
          StandardAwsCredentials.class.getName());

  /**
   * S3A retries an unreachable endpoint for about two minutes by default (the SDK's attempts times
   * its own retry limit), far past a run's patience: the fleet's storage retry, circuit breaker and
   * run deadline are what decide when an outage ends a run, so S3A gives up quickly and says why (a
   * refused connection fails at once; 15 s is the shortest connect timeout S3A accepts).
   *
   * <p>Credentials come from {@link #CREDENTIAL_PROVIDERS}.
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
          "fs.s3a.connection.establish.timeout", "15s",
          "fs.s3a.aws.credentials.provider", CREDENTIAL_PROVIDERS);

  private static final Logger log = LoggerFactory.getLogger(HadoopSettings.class);

  /** Mistyped keys already warned about: once per process, not at every store opened. */
  private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

  private HadoopSettings() {}

  /**
   * A configuration with the fleet's defaults under {@code settings}, this process's site files.
   */
  public static Configuration of(Map<String, String> settings) {
    return of(settings, System.getenv());
  }

  /**
   * A configuration with the fleet's defaults under {@code settings}, the site files in {@code
   * env}'s {@link #CONF_DIR_ENV} folder (if any) under both.
   *
   * @throws IllegalArgumentException if {@link #CONF_DIR_ENV} names no folder
   */
  public static Configuration of(Map<String, String> settings, Map<String, String> env) {
    Configuration conf = new Configuration();
    String confDir = env.get(CONF_DIR_ENV);
    if (confDir != null && !confDir.isBlank()) {
      Path dir = Path.of(confDir);
      if (!Files.isDirectory(dir)) {
        throw new IllegalArgumentException(
            CONF_DIR_ENV + " names " + confDir + ", which is not a folder");
      }
      for (String file : SITE_FILES) {
        if (Files.isRegularFile(dir.resolve(file))) {
          conf.addResource(new org.apache.hadoop.fs.Path(dir.resolve(file).toUri()));
        }
      }
    }
    FLEET_DEFAULTS.forEach(
        (key, value) -> {
          if (onlyHadoopsDefault(conf, key)) {
            conf.set(key, value, "evalfleet default");
          }
        });
    settings.forEach((key, value) -> conf.set(key, value, "evalfleet setting hadoop." + key));
    for (String problem : S3aKeys.unknown(settings)) {
      if (WARNED.add(problem)) {
        log.warn(problem);
      }
    }
    return conf;
  }

  /** Whether {@code key} is unset or set only by Hadoop's own {@code *-default.xml} files. */
  private static boolean onlyHadoopsDefault(Configuration conf, String key) {
    String[] sources = conf.getPropertySources(key);
    return sources == null || Arrays.stream(sources).allMatch(s -> s.endsWith("-default.xml"));
  }
}
