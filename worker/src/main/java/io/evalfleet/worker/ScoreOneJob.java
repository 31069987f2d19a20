package io.evalfleet.worker;

import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.scoring.Scorers;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The process a worker starts to score one suspect job alone ({@link IsolatedScoring}): reads an
 * {@link IsolatedJob} line from standard input, builds the worker's scorers from the worker's
 * settings, scores the job and writes its {@link ShardResult} on standard output, after {@link
 * #RESULT}. It joins no consumer group and opens no Kafka client. Everything else it prints, its
 * log included, goes to standard error. It exits as soon as its worker is gone (its standard input
 * reaches its end, or the worker's process ends), so a killed worker leaves nothing running.
 *
 * <p>Exit statuses: 0 answered; {@link #SETUP_FAILED} the request or the scorers could not be set
 * up; {@link #WORKER_GONE} the worker went away; anything else is how the JVM died.
 */
final class ScoreOneJob {
  /** Prefix of the line that carries the answer on standard output. */
  static final String RESULT = "evalfleet-isolated-result ";

  static final int SETUP_FAILED = 70;
  static final int WORKER_GONE = 75;

  private ScoreOneJob() {}

  public static void main(String[] args) throws IOException {
    PrintStream answer = System.out;
    // Standard output carries the answer alone: the log and anything else printed go to standard
    // error.
    System.setOut(System.err);
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line = in.readLine();
    if (line == null) {
      Runtime.getRuntime().halt(WORKER_GONE);
    }
    exitWhenTheWorkerIsGone(in);
    // On a thread of its own with a generous stack: a JVM's main thread may have less than a
    // worker's
    // threads, and ONNX Runtime's initialisation has been seen to overflow 1 MiB; scoring alone
    // must
    // never fail where the worker would not.
    int[] status = {SETUP_FAILED};
    Thread scoring =
        new Thread(
            null, () -> status[0] = score(line, answer), "isolated-scoring", SCORING_STACK_BYTES);
    scoring.start();
    try {
      scoring.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    System.exit(status[0]);
  }

  private static final long SCORING_STACK_BYTES = 16L << 20;

  /** Scores the requested job and writes the answer; returns the exit status. */
  private static int score(String line, PrintStream answer) {
    IsolatedJob request;
    Scorers scorers;
    try {
      request = Json.read(line.getBytes(StandardCharsets.UTF_8), IsolatedJob.class);
      scorers =
          Scorers.build(
              FleetConfig.of(request.settings()),
              request.workerId(),
              Path.of(request.cacheDir()),
              new SimpleMeterRegistry());
    } catch (RuntimeException e) {
      System.err.println("cannot set up scoring alone: " + e);
      return SETUP_FAILED;
    }
    ShardResult result = scorers.scorer().score(request.job());
    answer.println(RESULT + Json.writeString(result));
    answer.flush();
    scorers.close();
    return answer.checkError() ? SETUP_FAILED : 0;
  }

  /**
   * The worker holds our standard input open while it waits for us; its end means the worker is
   * gone.
   */
  private static void exitWhenTheWorkerIsGone(BufferedReader in) {
    Thread watcher =
        new Thread(
            () -> {
              try {
                while (in.read() >= 0) {
                  // nothing more is expected: only the end matters
                }
              } catch (IOException e) {
                // a broken pipe is an end too
              }
              Runtime.getRuntime().halt(WORKER_GONE);
            },
            "worker-watch");
    watcher.setDaemon(true);
    watcher.start();
    ProcessHandle.current()
        .parent()
        .ifPresent(worker -> worker.onExit().thenRun(() -> Runtime.getRuntime().halt(WORKER_GONE)));
  }
}
