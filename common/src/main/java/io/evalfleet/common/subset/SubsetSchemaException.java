package io.evalfleet.common.subset;

import io.evalfleet.common.failure.InputException;

/** A golden subset that lacks a column the scorer needs, or has it with the wrong type. */
public final class SubsetSchemaException extends InputException {
  public SubsetSchemaException(String message) {
    super(message);
  }
}
