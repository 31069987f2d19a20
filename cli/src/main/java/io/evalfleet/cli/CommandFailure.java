package io.evalfleet.cli;

/**
 * A command cannot do what it was asked, for a reason the user can act on: the message says what is
 * wrong and, where useful, what to do; no stack trace is shown. Carries its {@link ExitCode}.
 */
public final class CommandFailure extends RuntimeException {
  private final int exitCode;

  public CommandFailure(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  /** Bad usage or input ({@link ExitCode#BAD_INPUT}). */
  public static CommandFailure badInput(String message) {
    return new CommandFailure(ExitCode.BAD_INPUT, message);
  }

  /** Cannot score or cannot reach ({@link ExitCode#UNAVAILABLE}). */
  public static CommandFailure unavailable(String message) {
    return new CommandFailure(ExitCode.UNAVAILABLE, message);
  }

  public int exitCode() {
    return exitCode;
  }
}
