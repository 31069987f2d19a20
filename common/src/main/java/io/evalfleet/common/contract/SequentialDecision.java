package io.evalfleet.common.contract;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * How a run under a sequential policy came to its flag: stopped as soon as a look at the completed
 * prefix of its seeded row order was conclusive ({@code red}, {@code green}), or scored to the end
 * and decided as a fixed sample ({@code end}).
 *
 * @param rowsScored the rows the verdict rests on (the completed prefix; all rows at the end)
 * @param rowsTotal the rows of the whole run
 * @param looks the looks made at the prefix, the stopping one included
 * @param stopped why scoring stopped
 * @param reason the look's sentence: what was conclusive, or why the run went to the end
 */
public record SequentialDecision(
    long rowsScored, long rowsTotal, int looks, Stop stopped, String reason) {
  public enum Stop {
    @JsonProperty("red")
    RED,
    @JsonProperty("green")
    GREEN,
    @JsonProperty("end")
    END
  }

  @JsonCreator
  public SequentialDecision {
    Checks.nonNegative(rowsScored, "sequential.rows_scored");
    if (rowsTotal <= 0) {
      throw new ContractViolation("sequential.rows_total", "must be positive, got " + rowsTotal);
    }
    Checks.nonNegative(looks, "sequential.looks");
    Checks.required(stopped, "sequential.stopped");
    if (rowsScored > rowsTotal) {
      throw new ContractViolation(
          "sequential.rows_scored",
          "is " + rowsScored + ", more than the run's " + rowsTotal + " rows");
    }
  }
}
