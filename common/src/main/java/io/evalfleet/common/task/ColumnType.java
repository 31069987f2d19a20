package io.evalfleet.common.task;

import io.evalfleet.common.subset.GoldenSubsetFile;
import io.evalfleet.common.subset.SubsetSchemaException;

/** The Parquet type a golden-subset column must have to play a role. */
public enum ColumnType {
  /** A top-level UTF-8 string column. */
  TEXT,
  /** A top-level floating-point or integer column. */
  NUMBER,
  /** A list of int32 or int64 token ids. */
  TOKEN_IDS;

  /**
   * Checks that {@code column} of {@code file} has this type; the message names the role and the
   * column.
   */
  void check(GoldenSubsetFile file, String role, String column) throws SubsetSchemaException {
    switch (this) {
      case TEXT -> file.requireText(role, column);
      case NUMBER -> file.requireNumber(role, column);
      case TOKEN_IDS -> file.requireTokenIds(role, column);
    }
  }
}
