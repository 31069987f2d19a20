package io.evalfleet.common.failure;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Predicate;
import org.apache.hadoop.security.AccessControlException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.RetriableException;

/** The one place that sorts exceptions into {@link FailureKind}s. */
public final class Failures {
  private Failures() {}

  /**
   * The kind of {@code failure}, looking through wrapping exceptions for a classified cause:
   *
   * <ul>
   *   <li>a {@link Classified} exception says its own kind;
   *   <li>a missing file (or bucket) is {@link FailureKind#BAD_INPUT}, and so is a store refusing
   *       access ({@link #isAccessDenied}): credentials it does not accept, or a location they may
   *       not read, are the event's or the configuration's fault and trying again does not help; so
   *       is an object without the version S3A's change detection needs ({@link
   *       #isWithoutVersion}); and so is a Kafka cluster refusing the client's credentials or an
   *       operation its ACLs do not allow ({@code io.evalfleet.common.kafka.acl.KafkaDenial});
   *   <li>running out of memory, host or device (ONNX Runtime's CUDA and arena allocation failures
   *       included), is {@link FailureKind#RESOURCE_EXHAUSTED};
   *   <li>any other I/O failure, a retriable Kafka error or an open circuit breaker is {@link
   *       FailureKind#UNAVAILABLE};
   *   <li>anything else is a {@link FailureKind#BUG}.
   * </ul>
   */
  public static FailureKind kindOf(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof Classified classified) {
        return classified.kind();
      }
      if (t instanceof FileNotFoundException
          || t instanceof NoSuchFileException
          || isMissingStoreOne(t)
          || isAccessDeniedOne(t)
          || isWithoutVersionOne(t)
          || t instanceof AuthorizationException
          || t instanceof AuthenticationException
          || isKafkaClientConstruction(t)) {
        return FailureKind.BAD_INPUT;
      }
      if (isOutOfMemory(t)) {
        return FailureKind.RESOURCE_EXHAUSTED;
      }
    }
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof IOException
          || t instanceof RetriableException
          || t instanceof CallNotPermittedException) {
        return FailureKind.UNAVAILABLE;
      }
    }
    return FailureKind.BUG;
  }

  /**
   * The kind of a failure to read a scoring job's inputs. As {@link #kindOf}, but for one rule: a
   * job exists only once pre-flight has found and verified every file it names, so a file the
   * worker cannot find went away since (an unmounted volume, a store that lost it): the store is
   * {@link FailureKind#UNAVAILABLE}, the event is not at fault.
   */
  public static FailureKind kindOfVerifiedInput(Throwable failure) {
    return isMissingFile(failure) ? FailureKind.UNAVAILABLE : kindOf(failure);
  }

  /**
   * Whether {@code failure} is, or is caused by, a file that does not exist, or a bucket ({@link
   * #isMissingStore}).
   */
  public static boolean isMissingFile(Throwable failure) {
    return anyCause(
        failure,
        t ->
            t instanceof FileNotFoundException
                || t instanceof NoSuchFileException
                || isMissingStoreOne(t));
  }

  /**
   * Whether {@code failure} is, or is caused by, a store refusing access: a file system's "access
   * denied" ({@link AccessDeniedException}: S3A's translation of HTTP 401 and 403, e.g. {@code
   * InvalidAccessKeyId}, {@code SignatureDoesNotMatch}, {@code AccessDenied}, and of finding no
   * credentials at all) or HDFS's permission check ({@link AccessControlException}).
   */
  public static boolean isAccessDenied(Throwable failure) {
    return anyCause(failure, Failures::isAccessDeniedOne);
  }

  private static boolean isAccessDeniedOne(Throwable t) {
    return t instanceof AccessDeniedException || t instanceof AccessControlException;
  }

  /**
   * Whether {@code failure} is, or is caused by, a store that does not exist: S3A's {@code
   * UnknownStoreException} for a missing bucket (known by name: the S3 connector is on the runtime
   * classpath only). It is an I/O failure, but no retry makes the bucket exist.
   */
  public static boolean isMissingStore(Throwable failure) {
    return anyCause(failure, Failures::isMissingStoreOne);
  }

  private static boolean isMissingStoreOne(Throwable t) {
    return t.getClass().getName().equals("org.apache.hadoop.fs.s3a.UnknownStoreException");
  }

  /**
   * Whether {@code failure} is, or is caused by, S3A's {@code NoVersionAttributeException}: the
   * store gave no ETag (or version id) for an object, which S3A's change detection requires. Some
   * S3-compatible stores do so for objects put there other than through S3; no retry changes it.
   */
  public static boolean isWithoutVersion(Throwable failure) {
    return anyCause(failure, Failures::isWithoutVersionOne);
  }

  private static boolean isWithoutVersionOne(Throwable t) {
    return t.getClass().getName().equals("org.apache.hadoop.fs.s3a.NoVersionAttributeException");
  }

  /**
   * Whether {@code t} is a Kafka client that could not be made ({@code Failed to construct kafka
   * consumer}, ...): making one contacts no broker, so only its settings can be at fault (a key
   * store that does not open, a JAAS line that does not parse, a bootstrap address that does not
   * resolve), not an outage, and no retry helps.
   */
  public static boolean isKafkaClientConstruction(Throwable t) {
    return t instanceof KafkaException
        && t.getMessage() != null
        && t.getMessage().startsWith("Failed to construct kafka ");
  }

  /** Whether {@code failure} or one of its causes passes {@code test}. */
  private static boolean anyCause(Throwable failure, Predicate<Throwable> test) {
    return firstCause(failure, test).isPresent();
  }

  /** The first of {@code failure} and its causes, outermost first, that passes {@code test}. */
  public static Optional<Throwable> firstCause(Throwable failure, Predicate<Throwable> test) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (test.test(t)) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }

  /** True for the JVM's and ONNX Runtime's (CPU arena, CUDA) out-of-memory failures. */
  public static boolean isOutOfMemory(Throwable t) {
    if (t instanceof OutOfMemoryError) {
      return true;
    }
    String message = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
    return message.contains("out of memory")
        || message.contains("failed to allocate memory")
        || message.contains("cudaerrormemoryallocation")
        || message.contains("bad_alloc");
  }

  /** {@code kind description: message}, e.g. "dependency unavailable: storage unavailable: ...". */
  public static String describe(Throwable failure) {
    String message = failure.getMessage() != null ? failure.getMessage() : failure.toString();
    FailureKind kind = kindOf(failure);
    return kind == FailureKind.BUG ? kind.description() + ": " + failure : message;
  }
}
