package io.evalfleet.common.storage;

import java.io.IOException;

/** A location outside the configured {@code storage.allowed-roots}. Never read, never retried. */
public final class AccessDeniedException extends io.evalfleet.common.failure.InputException {
  public AccessDeniedException(String message) {
    super(message);
  }
}
