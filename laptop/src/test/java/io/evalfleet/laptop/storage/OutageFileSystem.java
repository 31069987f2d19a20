package io.evalfleet.laptop.storage;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.nio.file.Path;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * A store under the {@code gs:} scheme that serves the local disk and can be stopped: while it is
 * down, every call is refused as a remote store's would be (connection refused), through Hadoop's
 * FileSystem API exactly where a real connector fails. Registered by the tests' {@code
 * core-site.xml}.
 */
public final class OutageFileSystem extends RawLocalFileSystem {
  static final String SCHEME = "gs";
  private static volatile boolean down;

  /** Stops the store: every call from now on is refused. */
  public static void stop() {
    down = true;
  }

  /** Starts it again. */
  public static void start() {
    down = false;
  }

  /** The {@code gs:} URI of a local file. */
  public static String uriOf(Path local) {
    return SCHEME + "://" + local.toAbsolutePath().toUri().getPath();
  }

  @Override
  public URI getUri() {
    return URI.create(SCHEME + ":///");
  }

  @Override
  public String getScheme() {
    return SCHEME;
  }

  private static void refuseWhileDown(org.apache.hadoop.fs.Path path) throws ConnectException {
    if (down) {
      throw new ConnectException("Connection refused: the store serving " + path + " is down");
    }
  }

  @Override
  public FSDataInputStream open(org.apache.hadoop.fs.Path path, int bufferSize) throws IOException {
    refuseWhileDown(path);
    return super.open(path, bufferSize);
  }

  @Override
  public FileStatus getFileStatus(org.apache.hadoop.fs.Path path) throws IOException {
    refuseWhileDown(path);
    return super.getFileStatus(path);
  }

  @Override
  public FileStatus[] listStatus(org.apache.hadoop.fs.Path path) throws IOException {
    refuseWhileDown(path);
    return super.listStatus(path);
  }
}
