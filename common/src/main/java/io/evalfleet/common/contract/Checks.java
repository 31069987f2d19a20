package io.evalfleet.common.contract;

import io.evalfleet.common.task.Task;
import io.evalfleet.common.task.TaskSpec;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/** Validation helpers used by the compact constructors of the message records. */
public final class Checks {
  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,199}");

  /** Hadoop FileSystem schemes an artifact may live on; a missing connector is reported at use. */
  public static final Set<String> STORAGE_SCHEMES =
      Set.of("file", "hdfs", "s3a", "abfs", "abfss", "gs", "viewfs", "wasb", "wasbs");

  private Checks() {}

  public static <T> T required(T value, String field) {
    if (value == null) {
      throw new ContractViolation(field, "is required");
    }
    return value;
  }

  public static String requiredText(String value, String field) {
    required(value, field);
    if (value.isBlank()) {
      throw new ContractViolation(field, "must not be blank");
    }
    return value;
  }

  /** An identifier: 1–200 characters of letters, digits and {@code . _ : @ / + -}. */
  public static String identifier(String value, String field) {
    requiredText(value, field);
    if (!IDENTIFIER.matcher(value).matches()) {
      throw new ContractViolation(
          field,
          "must be 1-200 characters of letters, digits and ._:@/+- "
              + "starting with a letter or digit, got "
              + quote(value));
    }
    return value;
  }

  /** A sha256 digest as 64 hex characters; returned in lower case. */
  public static String sha256(String value, String field) {
    requiredText(value, field);
    String lower = value.toLowerCase(Locale.ROOT);
    if (!SHA256.matcher(lower).matches()) {
      throw new ContractViolation(
          field, "must be a sha256 digest of 64 hex characters, got " + quote(value));
    }
    return lower;
  }

  /**
   * A storage location: an absolute path, or a URI with a Hadoop FileSystem scheme ({@link
   * #STORAGE_SCHEMES}). Relative paths and {@code ..} segments are rejected.
   */
  public static String storageUri(String value, String field) {
    requiredText(value, field);
    URI uri;
    try {
      uri = new URI(value);
    } catch (URISyntaxException e) {
      throw new ContractViolation(field, "is not a valid URI: " + e.getMessage());
    }
    String scheme = uri.getScheme();
    if (scheme == null) {
      if (!value.startsWith("/")) {
        throw new ContractViolation(
            field, "must be an absolute path or a URI with a scheme, got " + quote(value));
      }
    } else if (!STORAGE_SCHEMES.contains(scheme.toLowerCase(Locale.ROOT))) {
      throw new ContractViolation(
          field,
          "has unsupported scheme '"
              + scheme
              + "' (supported: "
              + String.join(", ", STORAGE_SCHEMES.stream().sorted().toList())
              + ")");
    }
    String path = uri.getPath();
    if (path == null || path.isEmpty() || !path.startsWith("/")) {
      throw new ContractViolation(field, "must name an absolute path, got " + quote(value));
    }
    for (String segment : path.split("/")) {
      if (segment.equals("..")) {
        throw new ContractViolation(field, "must not contain '..' segments, got " + quote(value));
      }
    }
    return value;
  }

  public static int positive(Integer value, String field) {
    required(value, field);
    if (value <= 0) {
      throw new ContractViolation(field, "must be positive, got " + value);
    }
    return value;
  }

  public static Integer optionalPositive(Integer value, String field) {
    return value == null ? null : positive(value, field);
  }

  public static long nonNegative(long value, String field) {
    if (value < 0) {
      throw new ContractViolation(field, "must not be negative, got " + value);
    }
    return value;
  }

  /**
   * The rules of the task's {@link TaskSpec} on a run's parameters; the first broken one is thrown.
   */
  public static void taskParameters(
      Task task,
      Integer maxSeqLen,
      Integer stride,
      boolean hasTokenizer,
      boolean hasEmbeddingConventions) {
    var problems =
        task.spec()
            .checkParameters(
                new TaskSpec.Parameters(maxSeqLen, stride, hasTokenizer, hasEmbeddingConventions));
    if (!problems.isEmpty()) {
      throw new ContractViolation(problems.get(0).field(), problems.get(0).message());
    }
  }

  public static int schemaVersion(Integer value) {
    required(value, "schema_version");
    if (value != SchemaVersion.CURRENT) {
      throw new ContractViolation(
          "schema_version",
          "version "
              + value
              + " is not supported (this evalfleet reads version "
              + SchemaVersion.CURRENT
              + ")");
    }
    return value;
  }

  static String quote(String value) {
    String shown = value.length() > 80 ? value.substring(0, 77) + "..." : value;
    return "\"" + shown + "\"";
  }
}
