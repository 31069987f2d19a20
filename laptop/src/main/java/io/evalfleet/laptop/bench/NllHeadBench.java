package io.evalfleet.laptop.bench;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import io.evalfleet.cli.logging.InteractiveLogging;
import io.evalfleet.common.process.ProcessMemory;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.scoring.model.ArtifactCache;
import io.evalfleet.scoring.model.ModelSessions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The NLL head's own native memory and time on logits of a given vocabulary: the resident set's
 * high-water mark before and after the head runs on a batch of random logits. Run one vocabulary
 * per process: a high-water mark only rises.
 */
@Command(
    name = "nll-head",
    header = "Measures the NLL head's peak native memory and time on large logits.",
    description =
        "Peak native memory and time of the NLL head on [batch, length, vocabulary] float32 logits, beyond the logits themselves. One vocabulary per run (the resident high-water mark only rises).")
public final class NllHeadBench implements Callable<Integer> {
  @picocli.CommandLine.Mixin InteractiveLogging logging;

  @Option(
      names = "--vocab",
      defaultValue = "8192",
      description = "Vocabulary size. Default: ${DEFAULT-VALUE}.")
  int vocab;

  @Option(
      names = "--batch",
      defaultValue = "8",
      description = "Sequences. Default: ${DEFAULT-VALUE}.")
  int batch;

  @Option(
      names = "--length",
      defaultValue = "256",
      description = "Sequence length. Default: ${DEFAULT-VALUE}.")
  int length;

  @Option(
      names = "--threads",
      defaultValue = "2",
      description = "ONNX Runtime intra-op threads. Default: ${DEFAULT-VALUE}.")
  int threads;

  @Option(
      names = "--rounds",
      defaultValue = "5",
      description = "Timed runs. Default: ${DEFAULT-VALUE}.")
  int rounds;

  @Override
  public Integer call() throws Exception {
    System.out.println("full log: " + logging.apply("bench-nll-head"));
    long positions = (long) batch * length;
    long logitsBytes = positions * vocab * Float.BYTES;
    try (ModelSessions sessions =
        new ModelSessions(
            new ArtifactCache(
                Storage.withDefaults(),
                Files.createTempDirectory("evalfleet-head-"),
                Long.MAX_VALUE),
            threads)) {
      OrtSession head = sessions.nllHead(OnnxJavaType.FLOAT);
      FloatBuffer logits =
          ByteBuffer.allocateDirect((int) logitsBytes)
              .order(ByteOrder.nativeOrder())
              .asFloatBuffer();
      SplittableRandom random = new SplittableRandom(3);
      for (long i = 0; i < positions * vocab; i++) {
        logits.put((float) random.nextGaussian() * 4);
      }
      LongBuffer targets =
          ByteBuffer.allocateDirect((int) positions * Long.BYTES)
              .order(ByteOrder.nativeOrder())
              .asLongBuffer();
      FloatBuffer weights =
          ByteBuffer.allocateDirect((int) positions * Float.BYTES)
              .order(ByteOrder.nativeOrder())
              .asFloatBuffer();
      for (long i = 0; i < positions; i++) {
        targets.put(random.nextInt(vocab));
        weights.put(1f);
      }
      long[] shape = {batch, length};
      try (OnnxTensor logitsTensor =
              OnnxTensor.createTensor(
                  sessions.environment(), logits.rewind(), new long[] {batch, length, vocab});
          OnnxTensor targetTensor =
              OnnxTensor.createTensor(sessions.environment(), targets.rewind(), shape);
          OnnxTensor weightTensor =
              OnnxTensor.createTensor(sessions.environment(), weights.rewind(), shape)) {
        long before = ProcessMemory.peakRssBytes();
        double[] seconds = new double[rounds];
        for (int r = 0; r < rounds; r++) {
          long start = System.nanoTime();
          try (OrtSession.Result ignored =
              head.run(
                  Map.of(
                      "logits", logitsTensor, "targets", targetTensor, "weights", weightTensor))) {
            seconds[r] = (System.nanoTime() - start) / 1e9;
          }
        }
        long after = ProcessMemory.peakRssBytes();
        System.out.printf(
            Locale.ROOT,
            "NLL head, logits [%d, %d, %d] float32 = %.1f MiB, %d intra-op threads%n",
            batch,
            length,
            vocab,
            logitsBytes / 1048576.0,
            threads);
        System.out.printf(
            Locale.ROOT,
            "peak resident memory the head added beyond the logits: %.1f MiB%n",
            (after - before) / 1048576.0);
        System.out.printf(
            Locale.ROOT,
            "time per run: %.1f ms (median of %d), %.0f ns per logit%n",
            Rounds.median(seconds) * 1e3,
            rounds,
            Rounds.median(seconds) * 1e9 / (positions * vocab));
      }
    }
    return 0;
  }
}
