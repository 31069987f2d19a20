package io.evalfleet.cli;

import java.util.concurrent.CountDownLatch;

/** Blocks until the JVM is asked to stop, then runs the given close steps in order. */
final class Shutdown {
  interface Step {
    void close() throws Exception;
  }

  private Shutdown() {}

  static void awaitSignal(Step... steps) throws InterruptedException {
    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      for (Step step : steps) {
        try {
          step.close();
        } catch (Exception e) {
          System.err.println("error while stopping: " + e);
        }
      }
      done.countDown();
    }, "evalfleet-shutdown"));
    done.await();
  }
}
