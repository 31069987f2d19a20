package io.evalfleet.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The exit codes of every evalfleet command, one meaning each. Listed at the end of every command's
 * {@code --help} and in the README.
 */
public final class ExitCode {
  /** Done; a check found nothing wrong (a GREEN or WARN flag, no drift). */
  public static final int OK = 0;

  /**
   * The command ran and its check found a problem: a RED, ERROR or INCOMPLETE flag, drift, a
   * version not promotable.
   */
  public static final int PROBLEM_FOUND = 1;

  /**
   * Bad usage or input: an unknown option, a missing or unreadable file, an invalid setting, no
   * such model or version.
   */
  public static final int BAD_INPUT = 2;

  /**
   * Cannot score or cannot reach: a model the fleet cannot score, a broker or store that does not
   * answer, a wait that timed out.
   */
  public static final int UNAVAILABLE = 3;

  /** A bug in evalfleet: the stack trace is printed, please report it. */
  public static final int INTERNAL_ERROR = 4;

  private ExitCode() {}

  /** The list {@code --help} shows, code to meaning. */
  static Map<String, String> helpList() {
    Map<String, String> list = new LinkedHashMap<>();
    list.put(Integer.toString(OK), "Done; a check found nothing wrong.");
    list.put(
        Integer.toString(PROBLEM_FOUND),
        "A check found a problem (RED, ERROR or INCOMPLETE, drift, not promotable).");
    list.put(
        Integer.toString(BAD_INPUT),
        "Bad usage or input (option, file, setting, model or version).");
    list.put(
        Integer.toString(UNAVAILABLE),
        "Cannot score or cannot reach (model, broker, storage, timeout).");
    list.put(Integer.toString(INTERNAL_ERROR), "A bug in evalfleet (the stack trace is printed).");
    return list;
  }
}
