package io.evalfleet.common.storage;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Reads artifacts and golden subsets through the Hadoop FileSystem API, so that local paths,
 * {@code file:}, {@code hdfs:} and (with its connector on the classpath) {@code s3a:} all work.
 * Thread-safe.
 */
public final class Storage {
  private final Configuration conf;

  public Storage(Configuration conf) {
    this.conf = conf;
  }

  /** Storage with Hadoop's default configuration (plus any {@code core-site.xml} on the classpath). */
  public static Storage withDefaults() {
    return new Storage(new Configuration());
  }

  public Configuration conf() {
    return conf;
  }

  public static Path path(String uri) {
    return new Path(URI.create(uri));
  }

  /** The file's size in bytes; throws {@link FileNotFoundException} naming the URI if it is missing. */
  public long size(String uri) throws IOException {
    Path path = path(uri);
    FileSystem fs = path.getFileSystem(conf);
    if (!fs.exists(path)) {
      throw new FileNotFoundException("no such file: " + uri);
    }
    var status = fs.getFileStatus(path);
    if (status.isDirectory()) {
      throw new FileNotFoundException("is a directory, not a file: " + uri);
    }
    return status.getLen();
  }

  public InputStream open(String uri) throws IOException {
    Path path = path(uri);
    FileSystem fs = path.getFileSystem(conf);
    if (!fs.exists(path)) {
      throw new FileNotFoundException("no such file: " + uri);
    }
    return fs.open(path);
  }

  /** The sha256 of the file's bytes, as 64 lower-case hex characters, computed while streaming. */
  public String sha256(String uri) throws IOException {
    try (InputStream in = new DigestInputStream(open(uri), newDigest())) {
      in.transferTo(OutputStreamSink.INSTANCE);
      return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
    }
  }

  /** Checks the file's digest; throws {@link DigestMismatchException} naming both digests. */
  public void verify(String uri, String expectedSha256) throws IOException {
    String actual = sha256(uri);
    if (!actual.equals(expectedSha256)) {
      throw new DigestMismatchException(uri, expectedSha256, actual);
    }
  }

  public static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  private static final class OutputStreamSink extends java.io.OutputStream {
    static final OutputStreamSink INSTANCE = new OutputStreamSink();

    @Override
    public void write(int b) {}

    @Override
    public void write(byte[] b, int off, int len) {}
  }
}
