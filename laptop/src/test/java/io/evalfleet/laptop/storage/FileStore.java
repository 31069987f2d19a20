package io.evalfleet.laptop.storage;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * A store the fleet reads its inputs from and writes its archive to, as a test sets it up: local
 * files are put on it under a name, and the fleet reaches it through Hadoop's FileSystem API with
 * the {@code hadoop.*} settings it gives. Closing it stops whatever it started.
 */
public interface FileStore extends AutoCloseable {
  /** A short name for messages: {@code file}, {@code hdfs}, {@code s3a}. */
  String scheme();

  /**
   * Copies the local file or folder {@code local} onto the store as {@code name} (a relative path
   * such as {@code models/minilm/model.onnx}); returns its fully qualified URI.
   */
  String put(Path local, String name) throws IOException;

  /** The fully qualified URI of {@code name} on the store, whether or not anything is there yet. */
  String uri(String name);

  /**
   * The fleet's settings that reach the store, each with its {@code hadoop.} prefix: empty when
   * Hadoop's defaults do.
   */
  Map<String, String> settings();
}
