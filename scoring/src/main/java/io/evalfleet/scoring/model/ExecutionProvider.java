package io.evalfleet.scoring.model;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which ONNX Runtime execution provider a worker's sessions run on: {@code cpu}, {@code cuda}, or
 * {@code auto} (CUDA when this build and machine have it, else CPU, saying so). The CUDA provider
 * exists only in the {@code onnxruntime_gpu} build ({@code mvn -Pgpu}).
 */
public enum ExecutionProvider {
  CPU,
  CUDA,
  AUTO;

  private static final Logger log = LoggerFactory.getLogger(ExecutionProvider.class);

  public static ExecutionProvider parse(String value) {
    try {
      return valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "execution provider must be cpu, cuda or auto, got '" + value + "'");
    }
  }

  /**
   * Checks at start-up that the requested provider can exist in this build: {@code cuda} without
   * the CUDA provider is refused here rather than failing every job later.
   */
  void checkAvailable() {
    if (this == CUDA && !OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
      throw new IllegalStateException(
          "worker.execution-provider=cuda, but this ONNX Runtime build has no CUDA provider"
              + " (available: "
              + OrtEnvironment.getAvailableProviders()
              + "); build with -Pgpu, or use auto or cpu");
    }
  }

  /**
   * Adds the provider to {@code options} and returns the name of the one that will run, {@code
   * cuda} or {@code cpu}. With {@code auto}, a CPU build runs on CPU; a CUDA build whose provider
   * cannot start (no GPU, no driver) falls back to CPU with a warning and {@code fallbackReason}
   * set.
   */
  public Choice apply(OrtSession.SessionOptions options) throws OrtException {
    if (this == CPU) {
      return new Choice("cpu", null);
    }
    if (this == AUTO && !OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
      // A CPU build: CPU is what auto means here, not a fallback worth a warning or an alert.
      return new Choice("cpu", null);
    }
    try {
      options.addCUDA(0);
      return new Choice("cuda", null);
    } catch (OrtException | RuntimeException e) {
      if (this == CUDA) {
        throw e;
      }
      return fallback("the CUDA provider could not start: " + e.getMessage());
    }
  }

  private static Choice fallback(String reason) {
    log.warn("execution provider auto: {}; running on CPU", reason);
    return new Choice("cpu", reason);
  }

  /**
   * The provider chosen for a session, and why CUDA was not, when it was asked for and not used.
   */
  public record Choice(String provider, String fallbackReason) {}
}
