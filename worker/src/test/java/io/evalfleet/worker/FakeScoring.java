package io.evalfleet.worker;

import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardResult;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Stands in for {@link ScoreOneJob}: a job's shard index says what happens to the process that
 * scores it.
 */
public final class FakeScoring {
  static final int ANSWERS = 0;
  static final int RUNS_OUT_OF_MEMORY = 1;
  static final int IS_KILLED = 2;
  static final int HANGS = 3;
  static final int FAILS = 4;

  public static void main(String[] args) throws Exception {
    String line =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
    ScoringJob job = Json.read(line.getBytes(StandardCharsets.UTF_8), IsolatedJob.class).job();
    switch (job.shardIndex()) {
      case ANSWERS -> {
        System.out.println("some chatter before the answer");
        System.out.println(
            ScoreOneJob.RESULT
                + Json.writeString(
                    ShardResult.answering(job)
                        .values(Map.of("cosine", new double[job.rowCount()]))
                        .workerId("w")
                        .executionProvider("cpu")
                        .durationMs(1)
                        .attempt(1)
                        .build()));
        System.exit(0);
      }
      case RUNS_OUT_OF_MEMORY -> {
        List<long[]> hoard = new ArrayList<>();
        while (true) {
          hoard.add(new long[1 << 20]);
        }
      }
      case IS_KILLED -> {
        new ProcessBuilder("kill", "-9", Long.toString(ProcessHandle.current().pid()))
            .start()
            .waitFor();
        Thread.sleep(60_000);
      }
      case HANGS -> Thread.sleep(600_000);
      default -> {
        System.err.println("{\"level\":\"ERROR\",\"formattedMessage\":\"the row reader broke\"}");
        System.exit(2);
      }
    }
  }
}
