package io.evalfleet.scoring.model;

import java.net.URI;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * The local disk under the {@code gs:} scheme: a "remote" file system for tests of what the cache
 * does with files that are not local (streaming, verifying, evicting), without a cloud account.
 */
public final class RemoteDiskFileSystem extends RawLocalFileSystem {
  static final String SCHEME = "gs";

  @Override
  public URI getUri() {
    return URI.create(SCHEME + ":///");
  }

  @Override
  public String getScheme() {
    return SCHEME;
  }

  /** A Hadoop configuration that serves {@code gs:} URIs from the local disk. */
  static Configuration configuration() {
    Configuration conf = new Configuration();
    conf.set("fs." + SCHEME + ".impl", RemoteDiskFileSystem.class.getName());
    conf.setBoolean("fs." + SCHEME + ".impl.disable.cache", true);
    return conf;
  }

  /** The {@code gs:} URI of a local file. */
  static String uriOf(java.nio.file.Path local) {
    return SCHEME + "://" + local.toAbsolutePath().toUri().getPath();
  }
}
