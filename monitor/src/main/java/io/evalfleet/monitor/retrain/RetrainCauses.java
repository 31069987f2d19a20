package io.evalfleet.monitor.retrain;

import io.evalfleet.common.contract.MonitorResult;
import io.evalfleet.common.contract.RetrainRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Why a check asks for retraining, each cause with an id that names it alone: a drift episode
 * ({@code <model>:drift:<episode start>}: every drifted window of one run of them has the same
 * cause) and each expired period of the retraining cadence ({@code <model>:cadence:<n>}, the n-th
 * period since {@code since}). A publisher that remembers the ids it published sends each once.
 */
public final class RetrainCauses {
  private RetrainCauses() {}

  /**
   * @param cadence retrain at least this often, or null
   * @param since when the cadence starts counting (the model's training or promotion)
   * @param subset the golden subset to refresh, or null
   */
  public static List<RetrainRequest> of(
      MonitorResult result, Duration cadence, Instant since, String subset, Instant now) {
    List<RetrainRequest> causes = new ArrayList<>();
    if (result.drifted()) {
      Map<String, Double> metrics = new LinkedHashMap<>();
      if (result.mmd2() != null) {
        metrics.put("mmd2", result.mmd2());
      }
      if (result.perplexity() != null) {
        metrics.put("perplexity", result.perplexity());
        metrics.put("reference_perplexity", result.referencePerplexity());
      }
      metrics.put("p_value", result.pValue());
      metrics.put("alpha", result.alpha());
      causes.add(
          RetrainRequest.builder()
              .causeId(result.model() + ":drift:" + result.episodeStart())
              .model(result.model())
              .version(result.version())
              .cause("drift")
              .evidence(result.evidence())
              .metrics(metrics)
              .windowStart(
                  result
                      .episodeStart()
                      .minus(Duration.between(result.windowStart(), result.windowEnd())))
              .windowEnd(result.episodeStart())
              .subset(subset)
              .requestedAt(now)
              .build());
    }
    if (cadence != null && since != null && !result.windowEnd().isBefore(since.plus(cadence))) {
      long period = Duration.between(since, result.windowEnd()).toMillis() / cadence.toMillis();
      causes.add(
          RetrainRequest.builder()
              .causeId(result.model() + ":cadence:" + period)
              .model(result.model())
              .version(result.version())
              .cause("cadence")
              .evidence(
                  "the retraining cadence of "
                      + cadence
                      + " since "
                      + since
                      + " expired (period "
                      + period
                      + ")")
              .metrics(Map.of("periods", (double) period))
              .windowStart(since.plus(cadence.multipliedBy(period)))
              .windowEnd(result.windowEnd())
              .subset(subset)
              .requestedAt(now)
              .build());
    }
    return causes;
  }
}
