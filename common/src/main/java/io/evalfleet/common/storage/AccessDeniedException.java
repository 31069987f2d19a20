package io.evalfleet.common.storage;

import io.evalfleet.common.failure.InputException;

/** A location outside the configured {@code storage.allowed-roots}. Never read, never retried. */
public final class AccessDeniedException extends InputException {
  public AccessDeniedException(String message) {
    super(message);
  }
}
