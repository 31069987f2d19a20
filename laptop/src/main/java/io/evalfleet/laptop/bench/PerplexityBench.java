package io.evalfleet.laptop.bench;

import io.evalfleet.cli.logging.InteractiveLogging;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.laptop.demo.DemoAssets;
import io.evalfleet.scoring.model.ArtifactCache;
import io.evalfleet.scoring.model.LoadedModel;
import io.evalfleet.scoring.model.ModelSessions;
import io.evalfleet.scoring.perplexity.CausalLmScorer;
import io.evalfleet.scoring.perplexity.LengthBatches;
import io.evalfleet.scoring.perplexity.NllForward;
import io.evalfleet.scoring.perplexity.Window;
import io.evalfleet.scoring.perplexity.Windows;
import io.evalfleet.scoring.subset.SubsetReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Perplexity throughput next to a bare ONNX Runtime forward loop, on the same model, rows, windows
 * and batches, measured in alternating rounds in one process so that machine noise hits both.
 */
@Command(
    name = "perplexity",
    header = "Times perplexity scoring in tokens/s next to a bare ONNX Runtime loop.",
    description =
        "Tokens/s of evalfleet's perplexity scoring vs a bare ONNX Runtime loop that only computes the logits, on the same model, rows and length buckets, plus the padding ratio.")
public final class PerplexityBench implements Callable<Integer> {
  @picocli.CommandLine.Mixin InteractiveLogging logging;

  @Option(
      names = "--model",
      description =
          "ONNX causal LM (input_ids [, attention_mask, position_ids] -> logits). Default: the bundled byte-level GPT.")
  Path model;

  @Option(
      names = "--max-seq-len",
      defaultValue = "128",
      description = "Context of the model. Default: ${DEFAULT-VALUE}.")
  int maxSeqLen;

  @Option(
      names = "--rows",
      defaultValue = "512",
      description = "Rows of 16 to 400 bytes of English text. Default: ${DEFAULT-VALUE}.")
  int rows;

  @Option(
      names = "--batch-size",
      defaultValue = "32",
      description = "Most windows per forward pass. Default: ${DEFAULT-VALUE}.")
  int batchSize;

  @Option(
      names = "--logits-budget",
      defaultValue = "16777216",
      description =
          "Most logits per forward pass, as worker.logits-budget. Default: ${DEFAULT-VALUE}.")
  long logitsBudget;

  @Option(
      names = "--threads",
      defaultValue = "2",
      description = "ONNX Runtime intra-op threads. Default: ${DEFAULT-VALUE}.")
  int threads;

  @Option(
      names = "--rounds",
      defaultValue = "5",
      description = "Measured rounds of each loop, alternating. Default: ${DEFAULT-VALUE}.")
  int rounds;

  @Option(
      names = "--work-dir",
      defaultValue = ".evalfleet/bench",
      description = "Where the generated rows are kept. Default: ${DEFAULT-VALUE}.")
  Path workDir;

  @Override
  public Integer call() throws Exception {
    System.out.println("full log: " + logging.apply("bench-perplexity"));
    ArtifactRef artifact =
        model != null
            ? ref(model)
            : new DemoAssets(workDir).causalModel(DemoAssets.CausalModel.BYTEGPT_BASE).onnx();
    long[][] tokenRows = textRows(rows, new Random(42));
    Storage storage = Storage.withDefaults();
    try (ModelSessions sessions =
        new ModelSessions(
            new ArtifactCache(storage, workDir.resolve("cache"), Long.MAX_VALUE), threads)) {
      LoadedModel loaded = sessions.lease(artifact).model();
      long vocabulary = NllForward.checkSignature(loaded);
      if (vocabulary > 0 && vocabulary < 256) {
        throw new IllegalArgumentException(
            "the bench feeds UTF-8 bytes as token ids: it needs a vocabulary of at least 256");
      }
      CausalLmScorer scorer =
          new CausalLmScorer(sessions, new SubsetReader(storage), batchSize, logitsBudget);
      NllForward bare = new NllForward(sessions.environment(), sessions::nllHead);
      int stride = maxSeqLen / 2;
      List<Window> windows = new ArrayList<>();
      for (int r = 0; r < tokenRows.length; r++) {
        windows.addAll(Windows.plan(r, tokenRows[r].length, maxSeqLen, stride));
      }
      // The bare loop runs the very batches the scorer plans: same windows, batch size and logits
      // budget.
      List<List<Window>> batches =
          LengthBatches.plan(
              windows,
              batchSize,
              CausalLmScorer.tokenSlots(batchSize, maxSeqLen, vocabulary, logitsBudget));
      long tokensFed = windows.stream().mapToLong(Window::length).sum();
      long tokensScored = windows.stream().mapToLong(Window::scored).sum();

      CausalLmScorer.Scores check =
          scorer.scoreRows(loaded, tokenRows, maxSeqLen, stride, 0); // warm-up
      for (List<Window> batch : batches) {
        bare.forwardOnly(loaded, batch, tokenRows);
      }
      double[] fleet = new double[rounds];
      double[] forward = new double[rounds];
      for (int round = 0; round < rounds; round++) {
        long start = System.nanoTime();
        scorer.scoreRows(loaded, tokenRows, maxSeqLen, stride, 0);
        fleet[round] = (System.nanoTime() - start) / 1e9;
        start = System.nanoTime();
        for (List<Window> batch : batches) {
          bare.forwardOnly(loaded, batch, tokenRows);
        }
        forward[round] = (System.nanoTime() - start) / 1e9;
      }
      double fleetSeconds = Rounds.median(fleet);
      double forwardSeconds = Rounds.median(forward);
      double nll = Arrays.stream(check.nllSum()).sum();
      System.out.printf(
          Locale.ROOT,
          "model %s, %d rows, %d windows (max_seq_len %d, stride %d), %d batches of up to %d, %d intra-op threads%n",
          artifact.uri(),
          tokenRows.length,
          windows.size(),
          maxSeqLen,
          stride,
          batches.size(),
          batches.stream().mapToInt(List::size).max().orElse(0),
          threads);
      System.out.printf(
          Locale.ROOT,
          "tokens fed %d, tokens scored %d, padding ratio %.4f (%s)%n",
          tokensFed,
          tokensScored,
          LengthBatches.paddingRatio(batches),
          check.batching());
      System.out.printf(
          Locale.ROOT, "perplexity of these rows: %.4f%n", Math.exp(nll / tokensScored));
      System.out.printf(
          Locale.ROOT,
          "bare forward loop (logits only):  %10.0f tokens/s  (median of %d rounds, %.3f s)%n",
          tokensFed / forwardSeconds,
          rounds,
          forwardSeconds);
      System.out.printf(
          Locale.ROOT,
          "evalfleet perplexity scoring:     %10.0f tokens/s  (median of %d rounds, %.3f s)%n",
          tokensFed / fleetSeconds,
          rounds,
          fleetSeconds);
      System.out.printf(
          Locale.ROOT, "ratio evalfleet / bare forward:   %10.3f%n", forwardSeconds / fleetSeconds);
    }
    return 0;
  }

  /** Rows of 16 to 400 UTF-8 bytes cut from the held-out English text, as byte token ids. */
  static long[][] textRows(int count, Random random) throws IOException {
    String text;
    try (InputStream in = PerplexityBench.class.getResourceAsStream("/causal-lm/heldout.txt")) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8).replace('\n', ' ');
    }
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    long[][] rows = new long[count][];
    for (int r = 0; r < count; r++) {
      int length = 16 + random.nextInt(385);
      int start = random.nextInt(bytes.length - length);
      rows[r] = new long[length];
      for (int i = 0; i < length; i++) {
        rows[r][i] = bytes[start + i] & 0xff;
      }
    }
    return rows;
  }

  private static ArtifactRef ref(Path file) throws IOException {
    String uri = file.toAbsolutePath().normalize().toUri().toString();
    return new ArtifactRef(uri, Storage.withDefaults().sha256(uri));
  }
}
