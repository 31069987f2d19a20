package io.evalfleet.worker;

import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ContractViolation;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardResult;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores a suspect job in a JVM of its own ({@link ScoreOneJob}), started like this worker's: the
 * same {@code java}, class path, heap limit and JVM options (debugger and JMX ports left out), and
 * this worker's effective settings, so that the job meets what it met in the workers that stopped
 * on it. The job goes in on the process's standard input, which stays open while the worker waits:
 * a worker killed meanwhile closes it, and the process exits (then nothing is known and the job is
 * delivered again). What comes back:
 *
 * <ul>
 *   <li>an answer on standard output: {@link Isolation.Answered}, the job's result, nothing wasted;
 *   <li>the process died while this worker lived (a non-zero exit, a signal, running out of memory,
 *       a native crash): {@link Isolation.Died} with the evidence (see {@link Evidence});
 *   <li>this worker is closing: {@link Isolation.Abandoned};
 *   <li>the process could not be started or could not set itself up: {@link Isolation.Failed}.
 * </ul>
 *
 * <p>One job at a time per worker (the process has a model cache of its own under the worker's,
 * {@code <cache-dir>/isolated}, which two processes must not share); others wait their turn. Before
 * a death counts as evidence this worker waits {@code grace}: when a whole pod is killed, its
 * processes do not die at the same instant, and a worker about to die must not blame the job.
 * Thread-safe; {@link #close()} ends running processes.
 */
final class IsolatedScoring implements Isolation, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(IsolatedScoring.class);
  private static final int TAIL_LINES = 40;

  /** JVM options a second JVM must not repeat: they open ports this worker holds. */
  private static final List<String> NOT_INHERITED =
      List.of(
          "-agentlib:jdwp",
          "-Xrunjdwp",
          "-Xdebug",
          "-Dcom.sun.management.jmxremote",
          "-XX:StartFlightRecording");

  private final List<String> command;
  private final String heap;
  private final FleetConfig config;
  private final String workerId;
  private final Path cacheDir;
  private final Duration grace;
  private final Semaphore oneAtATime = new Semaphore(1, true);
  private final Set<Process> running = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  /**
   * @param command the process to start, e.g. {@link #javaCommand(Class)} of {@link ScoreOneJob}
   * @param heap how the process's heap limit is named in evidence, e.g. {@code -Xmx256m}
   * @param cacheDir the worker's model cache; the process uses {@code <cacheDir>/isolated}
   * @param grace how long to wait after a death before taking it as evidence
   */
  IsolatedScoring(
      List<String> command,
      String heap,
      FleetConfig config,
      String workerId,
      Path cacheDir,
      Duration grace) {
    this.command = List.copyOf(command);
    this.heap = heap;
    this.config = config;
    this.workerId = workerId;
    this.cacheDir = cacheDir.resolve("isolated");
    this.grace = grace;
  }

  /**
   * Scoring in a JVM started as this one was, waiting a second before taking a death as evidence.
   */
  static IsolatedScoring ofThisJvm(FleetConfig config, String workerId, Path cacheDir) {
    return new IsolatedScoring(
        javaCommand(ScoreOneJob.class),
        thisHeap(),
        config,
        workerId,
        cacheDir,
        Duration.ofSeconds(1));
  }

  /**
   * {@code java <this JVM's options> -cp <this class path> mainClass}, with the options that open
   * ports left out.
   */
  static List<String> javaCommand(Class<?> mainClass) {
    List<String> command = new ArrayList<>();
    command.add(
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (NOT_INHERITED.stream().noneMatch(option::startsWith)) {
        command.add(option);
      }
    }
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass.getName());
    return command;
  }

  /** This JVM's heap limit as its options give it ({@code -Xmx256m}), or as it is. */
  static String thisHeap() {
    String xmx = null;
    for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (option.startsWith("-Xmx")) {
        xmx = option;
      }
    }
    return xmx != null ? xmx : "a heap of " + (Runtime.getRuntime().maxMemory() >> 20) + " MiB";
  }

  @Override
  public Outcome score(ScoringJob job) {
    try {
      oneAtATime.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Abandoned("interrupted while waiting to score " + job.jobId() + " alone");
    }
    try {
      return scoreAlone(job);
    } finally {
      oneAtATime.release();
    }
  }

  private Outcome scoreAlone(ScoringJob job) {
    if (closed) {
      return new Abandoned("the worker is stopping");
    }
    Process process;
    try {
      process = new ProcessBuilder(command).start();
    } catch (IOException e) {
      return new Failed(
          "cannot start a process to score " + job.jobId() + " alone: " + e.getMessage());
    }
    running.add(process);
    try {
      log.info("scoring job {} alone in process {}", job.jobId(), process.pid());
      ArrayDeque<String> tail = new ArrayDeque<>();
      AtomicReference<ShardResult> answer = new AtomicReference<>();
      Thread out = read(process.getInputStream(), job, tail, answer, "out");
      Thread err = read(process.getErrorStream(), job, tail, null, "err");
      OutputStream in = process.getOutputStream();
      try {
        in.write(
            Json.write(new IsolatedJob(config.settings(), workerId, cacheDir.toString(), job)));
        in.write('\n');
        in.flush();
      } catch (IOException e) {
        // It died before reading: its exit status and output say why.
      }
      int status = process.waitFor();
      out.join(5_000);
      err.join(5_000);
      closeQuietly(in);
      List<String> lines;
      synchronized (tail) {
        lines = List.copyOf(tail);
      }
      if (status == 0 && answer.get() != null) {
        return new Answered(answer.get());
      }
      if (!closed && !grace.isZero()) {
        Thread.sleep(grace.toMillis());
      }
      if (closed) {
        return new Abandoned("the worker is stopping");
      }
      if (status == ScoreOneJob.SETUP_FAILED || status == 0) {
        return new Failed(
            "the process that scores "
                + job.jobId()
                + " alone "
                + (status == 0 ? "exited without an answer" : "could not set itself up")
                + Evidence.lastMeaningful(lines).map(line -> ": " + line).orElse(""));
      }
      return new Died(Evidence.of(status, heap, lines));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      return new Abandoned("interrupted while scoring " + job.jobId() + " alone");
    } finally {
      running.remove(process);
      if (process.isAlive()) {
        process.destroyForcibly();
      }
    }
  }

  /**
   * Reads one of the process's streams to its end: the answer line into {@code answer} (standard
   * output only), every other line into {@code tail} and this worker's debug log.
   */
  private static Thread read(
      InputStream stream,
      ScoringJob job,
      ArrayDeque<String> tail,
      AtomicReference<ShardResult> answer,
      String name) {
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader lines =
                  new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                String line;
                while ((line = lines.readLine()) != null) {
                  if (answer != null && line.startsWith(ScoreOneJob.RESULT)) {
                    try {
                      answer.set(
                          Json.read(
                              line.substring(ScoreOneJob.RESULT.length())
                                  .getBytes(StandardCharsets.UTF_8),
                              ShardResult.class));
                    } catch (ContractViolation e) {
                      log.warn(
                          "unreadable answer from the process scoring {} alone: {}",
                          job.jobId(),
                          e.getMessage());
                    }
                    continue;
                  }
                  String message = LogLines.message(line);
                  log.debug("scoring {} alone: {}", job.jobId(), message);
                  synchronized (tail) {
                    tail.addLast(message);
                    if (tail.size() > TAIL_LINES) {
                      tail.removeFirst();
                    }
                  }
                }
              } catch (IOException e) {
                // the process is gone: what was read is all there is
              }
            },
            "isolated-" + name);
    reader.setDaemon(true);
    reader.start();
    return reader;
  }

  private static void closeQuietly(OutputStream in) {
    try {
      in.close();
    } catch (IOException e) {
      // already gone
    }
  }

  /** Ends every running process at once; their jobs are abandoned (delivered again), not blamed. */
  @Override
  public void close() {
    closed = true;
    for (Process process : running) {
      process.destroyForcibly();
    }
  }
}
