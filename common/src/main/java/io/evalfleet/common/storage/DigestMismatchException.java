package io.evalfleet.common.storage;

import io.evalfleet.common.failure.InputException;

/** A file whose bytes do not have the sha256 its reference promised. Never use such a file. */
public final class DigestMismatchException extends InputException {
  public DigestMismatchException(String uri, String expected, String actual) {
    super("sha256 mismatch for " + uri + ": expected " + expected + ", file has " + actual);
  }
}
