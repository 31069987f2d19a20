package io.evalfleet.common.contract;

import java.util.Map;
import java.util.TreeMap;

/**
 * A versioned golden subset stored as one Parquet file.
 *
 * @param uri where the Parquet file is
 * @param sha256 the expected digest of the file
 * @param version a human name for this version of the subset (optional, e.g. {@code sts-v1})
 * @param columns maps the roles the scorer needs (e.g. {@code text_a}, {@code text_b}, {@code
 *     gold}) to the file's column names; roles left out use their own name as the column name
 */
public record SubsetRef(String uri, String sha256, String version, Map<String, String> columns) {
  public SubsetRef {
    uri = Checks.storageUri(uri, "uri");
    sha256 = Checks.sha256(sha256, "sha256");
    if (version != null) {
      Checks.identifier(version, "version");
    }
    columns = columns == null ? Map.of() : Map.copyOf(new TreeMap<>(columns));
    columns.forEach((role, column) -> Checks.requiredText(column, "columns." + role));
  }

  /** The column that plays {@code role}: the mapped name, or the role's own name. */
  public String column(String role) {
    return columns.getOrDefault(role, role);
  }
}
