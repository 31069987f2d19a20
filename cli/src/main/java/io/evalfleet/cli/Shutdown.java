package io.evalfleet.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/** Blocks until the JVM is asked to stop, then runs the given close steps in order. */
public final class Shutdown {
  public interface Step {
    void close() throws Exception;
  }

  private Shutdown() {}

  /**
   * Like {@link #awaitSignal}, but also returns (with {@code false}) when {@code alive} turns
   * false: a role whose loop died must not linger as a process that consumes nothing.
   */
  public static boolean awaitSignalOrDeath(BooleanSupplier alive, Step... steps)
      throws InterruptedException {
    CountDownLatch done = new CountDownLatch(1);
    AtomicBoolean stopping = new AtomicBoolean();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  stopping.set(true);
                  for (Step step : steps) {
                    try {
                      step.close();
                    } catch (Exception e) {
                      System.err.println("error while stopping: " + e);
                    }
                  }
                  done.countDown();
                },
                "evalfleet-shutdown"));
    while (!done.await(1, TimeUnit.SECONDS)) {
      if (!stopping.get() && !alive.getAsBoolean()) {
        System.err.println(
            "the role's loop has stopped on an error (see the log above); exiting so that it is restarted");
        return false;
      }
    }
    return true;
  }

  public static void awaitSignal(Step... steps) throws InterruptedException {
    awaitSignalOrDeath(() -> true, steps);
  }
}
