package io.evalfleet.common.contract;

/** The wire-format version carried by every message as {@code schema_version}. */
public final class SchemaVersion {
  /** Incremented on any incompatible change; readers reject versions they do not know. */
  public static final int CURRENT = 1;

  private SchemaVersion() {}
}
