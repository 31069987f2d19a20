package io.evalfleet.dispatcher.decision;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.dispatcher.decision.SequentialSimulation.Result;
import io.evalfleet.dispatcher.decision.SequentialSimulation.Rows;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.math3.distribution.BinomialDistribution;
import org.junit.jupiter.api.Test;

/**
 * The sequential decision's error rates over many simulated runs with a known true change, a look
 * after every shard of 50 rows of 10,000: at the margin itself (the worst case for both a false RED
 * and a false GREEN) neither happens more often than α, while the fixed-sample interval checked at
 * every look does far more often. Rates are compared with binomial quantiles at 99.9%, so that a
 * rate that truly is at most α fails the check less than once in a thousand seeds (and the seeds
 * are fixed).
 */
class SequentialCalibrationTest {
  private static final int RUNS = 1000;
  private static final int ROWS = 10_000;
  private static final int SHARD = 50;
  private static final double MARGIN = 0.02;
  private static final SequentialSettings SETTINGS = SequentialSettings.enabled(100, 1000);
  private static final double ALPHA = 0.05;

  /** At most α: the count stays below Binomial(RUNS, α)'s 99.9% quantile. */
  private static final int AT_MOST_ALPHA =
      new BinomialDistribution(null, RUNS, ALPHA).inverseCumulativeProbability(0.999);

  /** Clearly above α: the count reaches Binomial(RUNS, 2α)'s 99.9% quantile. */
  private static final int CLEARLY_ABOVE_TWICE_ALPHA =
      new BinomialDistribution(null, RUNS, 2 * ALPHA).inverseCumulativeProbability(0.999);

  private static Result simulate(Rows rows, double effect, long seed) {
    return SequentialSimulation.run(
        rows,
        effect,
        RUNS,
        ROWS,
        SHARD,
        rows.policy(MARGIN, 1 - ALPHA, SETTINGS),
        rows.defaultNoise(),
        seed);
  }

  @Test
  void perplexityExactlyAtTheMarginIsNeitherFalselyRedNorFalselyGreenMoreThanAlpha() {
    Result result = simulate(Rows.PERPLEXITY, MARGIN, 1_000_000);
    print(result);
    assertAtMostAlpha(result.sequential().red(), "false RED");
    assertAtMostAlpha(result.sequential().green(), "false GREEN");
    assertThat(count(result.peeking().red()))
        .as("naive peeking's false RED")
        .isGreaterThanOrEqualTo(CLEARLY_ABOVE_TWICE_ALPHA);
    // The fixed test on all rows, checked once, holds α too: what peeking breaks is the looking.
    assertAtMostAlpha(result.fixed().red(), "fixed false RED");
  }

  @Test
  void ndcgExactlyAtTheMarginIsNeitherFalselyRedNorFalselyGreenMoreThanAlpha() {
    Result result = simulate(Rows.NDCG, MARGIN, 2_000_000);
    print(result);
    assertAtMostAlpha(result.sequential().red(), "false RED");
    assertAtMostAlpha(result.sequential().green(), "false GREEN");
    assertThat(count(result.peeking().red()))
        .as("naive peeking's false RED")
        .isGreaterThanOrEqualTo(CLEARLY_ABOVE_TWICE_ALPHA);
  }

  /**
   * Looks and the fixed decision of the runs they did not stop, together: with the looks spending
   * half of α and the fixed test the other half, a run's false RED and false GREEN over its whole
   * life stay at most α (the looks at α and then the fixed test at α again would not: about 7%).
   */
  @Test
  void looksThenTheFixedTestAtTheAlphaLeftStayWithinAlphaTogether() {
    for (Rows rows : Rows.values()) {
      Result result =
          SequentialSimulation.run(
              rows,
              MARGIN,
              RUNS,
              ROWS,
              SHARD,
              rows.policy(MARGIN, 1 - ALPHA, SETTINGS.withAlphaShare(0.5)),
              rows.defaultNoise(),
              6_000_000 + rows.ordinal() * 100_000L);
      print(result);
      assertAtMostAlpha(result.sequentialThenFixed().red(), rows + " false RED, looks then end");
      assertAtMostAlpha(
          result.sequentialThenFixed().green(), rows + " false GREEN, looks then end");
    }
  }

  @Test
  void noChangeAlmostNeverStopsRedAndMostlyStopsGreenEarly() {
    for (Rows rows : Rows.values()) {
      Result result = simulate(rows, 0, 3_000_000 + rows.ordinal() * 100_000L);
      print(result);
      assertThat(count(result.sequential().red())).as(rows + " false RED").isLessThanOrEqualTo(2);
      assertThat(result.sequential().green()).as(rows + " GREEN").isGreaterThan(0.9);
    }
  }

  @Test
  void aSixPercentRegressionStopsRedOnWellUnderHalfTheRows() {
    for (Rows rows : Rows.values()) {
      Result result = simulate(rows, 0.06, 4_000_000 + rows.ordinal() * 100_000L);
      print(result);
      assertThat(result.sequential().red()).as(rows + " P(RED)").isGreaterThan(0.99);
      assertThat(result.sequential().fractionScored())
          .as(rows + " mean share of rows scored")
          .isLessThan(0.25);
    }
  }

  /**
   * The simulation's running-sum decisions are the decider's: on whole runs, the first look at
   * which {@link SequentialDecider} stops, and how, agree with {@link SequentialSimulation}.
   */
  @Test
  void simulationStopsWhereTheDeciderStops() {
    int rows = 2000;
    for (Rows model : Rows.values()) {
      Policy policy = model.policy(MARGIN, 1 - ALPHA, SETTINGS);
      SequentialDecider decider = new SequentialDecider(policy);
      for (double effect : new double[] {0, MARGIN, 0.04}) {
        for (int run = 0; run < 4; run++) {
          long seed = 5_000_000 + run;
          Result simulated =
              SequentialSimulation.run(
                  model, effect, 1, rows, SHARD, policy, model.defaultNoise(), seed);
          SequentialSimulation.RunColumns columns =
              SequentialSimulation.columns(model, effect, rows, model.defaultNoise(), seed);
          Look.Stop stop = Look.Stop.CONTINUE;
          int at = rows;
          for (int n = SHARD; n <= rows && stop == Look.Stop.CONTINUE; n += SHARD) {
            Look look =
                decider.look(
                    prefix(columns.baseline(), n),
                    prefix(columns.candidate(), n),
                    1,
                    rows,
                    n / SHARD - 1,
                    Map.of());
            stop = look.stop();
            at = stop == Look.Stop.CONTINUE ? rows : n;
          }
          assertThat(simulated.sequential().red() == 1)
              .as(model + " effect " + effect + " run " + run + " RED")
              .isEqualTo(stop == Look.Stop.RED);
          assertThat(simulated.sequential().green() == 1)
              .as(model + " effect " + effect + " run " + run + " GREEN")
              .isEqualTo(stop == Look.Stop.GREEN);
          assertThat(simulated.sequential().fractionScored())
              .as(model + " effect " + effect + " run " + run + " rows")
              .isEqualTo(at / (double) rows);
        }
      }
    }
  }

  private static void assertAtMostAlpha(double rate, String what) {
    assertThat(count(rate))
        .as(
            what + " in %d runs (at most %d allowed for a rate of α=%s)",
            RUNS,
            AT_MOST_ALPHA,
            ALPHA)
        .isLessThanOrEqualTo(AT_MOST_ALPHA);
  }

  private static int count(double rate) {
    return (int) Math.round(rate * RUNS);
  }

  private static void print(Result r) {
    System.out.printf(
        "%s effect %.3f: sequential RED %.3f GREEN %.3f end %.3f rows %.3f | fixed RED %.3f GREEN %.3f | peeking RED %.3f GREEN %.3f rows %.3f | then fixed RED %.3f GREEN %.3f%n",
        r.rows(),
        r.effect(),
        r.sequential().red(),
        r.sequential().green(),
        r.sequential().end(),
        r.sequential().fractionScored(),
        r.fixed().red(),
        r.fixed().green(),
        r.peeking().red(),
        r.peeking().green(),
        r.peeking().fractionScored(),
        r.sequentialThenFixed().red(),
        r.sequentialThenFixed().green());
  }

  private static Map<String, double[]> prefix(Map<String, double[]> columns, int rows) {
    Map<String, double[]> prefix = new LinkedHashMap<>();
    columns.forEach((name, column) -> prefix.put(name, Arrays.copyOf(column, rows)));
    return prefix;
  }
}
