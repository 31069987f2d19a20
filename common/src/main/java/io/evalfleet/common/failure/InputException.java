package io.evalfleet.common.failure;

import java.io.IOException;

/**
 * An I/O failure caused by the input itself (a corrupt, denied or mismatched file): never retried.
 */
public class InputException extends IOException implements Classified {
  public InputException(String message) {
    super(message);
  }

  public InputException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public final FailureKind kind() {
    return FailureKind.BAD_INPUT;
  }
}
