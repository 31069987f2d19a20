package io.evalfleet.worker;

import io.evalfleet.common.contract.ScoringJob;
import java.util.Map;
import java.util.Objects;

/**
 * What a worker hands the process that scores one job alone, as one line of JSON on its standard
 * input: the worker's effective settings (secrets included, hence a pipe and not arguments), its
 * id, the model cache that process may use, and the job.
 */
record IsolatedJob(Map<String, String> settings, String workerId, String cacheDir, ScoringJob job) {
  IsolatedJob {
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(workerId, "worker id");
    Objects.requireNonNull(cacheDir, "cache dir");
    Objects.requireNonNull(job, "job");
    settings = Map.copyOf(settings);
  }
}
