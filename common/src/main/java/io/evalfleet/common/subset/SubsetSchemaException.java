package io.evalfleet.common.subset;

import java.io.IOException;

/** A golden subset that lacks a column the scorer needs, or has it with the wrong type. */
public final class SubsetSchemaException extends io.evalfleet.common.failure.InputException {
  public SubsetSchemaException(String message) {
    super(message);
  }
}
