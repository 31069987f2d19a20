package io.evalfleet.cli;

import io.evalfleet.common.contract.ContractViolation;
import io.evalfleet.common.failure.FailureKind;
import io.evalfleet.common.failure.Failures;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.acl.KafkaDenial;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.NoSuchFileException;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * How every command answers a failure, in the manner of git and kubectl: one line naming the
 * command and what is wrong (and what to do, where the message says it), an {@link ExitCode} with
 * one meaning, and no stack trace for a user's mistake or an unreachable dependency (the log has it
 * at debug level: the log file of interactive commands, {@code -Devalfleet.log.level=debug} for
 * roles). Only a bug in evalfleet shows its stack trace.
 */
final class CommandErrors implements IExecutionExceptionHandler, IParameterExceptionHandler {
  private static final Logger log = LoggerFactory.getLogger(CommandErrors.class);

  @Override
  public int handleParseException(ParameterException e, String[] args) {
    CommandLine line = e.getCommandLine();
    PrintWriter err = line.getErr();
    String command = line.getCommandSpec().qualifiedName();
    err.println(command + ": " + e.getMessage());
    UnmatchedArgumentException.printSuggestions(e, err);
    err.println("Run '" + command + " --help' for its options.");
    err.flush();
    return ExitCode.BAD_INPUT;
  }

  @Override
  public int handleExecutionException(Exception e, CommandLine line, ParseResult parsed) {
    String command = line.getCommandSpec().qualifiedName();
    PrintWriter err = line.getErr();
    Throwable cause = unwrap(e);
    int code = exitCodeOf(cause);
    if (code == ExitCode.INTERNAL_ERROR) {
      log.error("{} failed", command, cause);
      err.println(command + ": internal error (a bug in evalfleet): " + cause);
      cause.printStackTrace(err);
    } else {
      log.debug("{} failed", command, cause);
      err.println(command + ": " + messageOf(cause));
    }
    err.flush();
    return code;
  }

  /** The exit code a failure means. */
  static int exitCodeOf(Throwable failure) {
    if (failure instanceof CommandFailure known) {
      return known.exitCode();
    }
    if (failure instanceof ParameterException
        || failure instanceof ContractViolation
        || failure instanceof IllegalArgumentException && failure.getMessage() != null) {
      return ExitCode.BAD_INPUT;
    }
    if (failure instanceof TimeoutException) {
      return ExitCode.UNAVAILABLE;
    }
    FailureKind kind = Failures.kindOf(failure);
    return switch (kind) {
      case BAD_INPUT -> ExitCode.BAD_INPUT;
      case UNAVAILABLE, RESOURCE_EXHAUSTED, CRASHED -> ExitCode.UNAVAILABLE;
      case BUG -> ExitCode.INTERNAL_ERROR;
    };
  }

  /** What the user reads: the failure's own words, a missing file named as such. */
  static String messageOf(Throwable failure) {
    if (failure instanceof NoSuchFileException missing) {
      return "no such file: " + missing.getFile();
    }
    if (failure instanceof TimeoutException && failure.getMessage() == null) {
      return "timed out";
    }
    // Java class names inside a message ("...: org.apache.kafka...TimeoutException: Timed out") say
    // nothing to a user.
    String message =
        failure.getMessage() == null
            ? null
            : failure
                .getMessage()
                .replaceAll("\\b(?:[a-z][a-z0-9_]*\\.)+[A-Z]\\w*(?:Exception|Error): ", "");
    if (!(failure instanceof CommandFailure)) {
      Optional<String> settings = KafkaClients.settingsProblem(failure);
      if (settings.isPresent()) {
        return settings.get();
      }
      Optional<KafkaDenial> denial = KafkaDenial.of(failure);
      if (denial.isPresent()) {
        return denial.get().message(null);
      }
    }
    if (message == null || message.isBlank()) {
      return failure.getClass().getSimpleName();
    }
    if (Failures.kindOf(failure) == FailureKind.UNAVAILABLE
        && !(failure instanceof CommandFailure)) {
      return fromKafka(failure)
          ? "cannot reach Kafka (is it up at the address -b or kafka.bootstrap.servers gives?): "
              + message
          : "cannot reach a dependency: " + message;
    }
    return message;
  }

  private static boolean fromKafka(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof KafkaException) {
        return true;
      }
    }
    return false;
  }

  private static Throwable unwrap(Throwable failure) {
    Throwable t = failure;
    while ((t instanceof ExecutionException
            || t instanceof CompletionException
            || t instanceof UncheckedIOException
            || t instanceof InvocationTargetException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
