package io.evalfleet.scoring.perplexity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.scoring.model.ArtifactCache;
import io.evalfleet.scoring.model.LoadedModel;
import io.evalfleet.scoring.model.ModelSessions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two real causal LMs (the bundled byte-level GPT and its fine-tune on code) compared on the same
 * windows by the token-shift head, against the same comparison computed here in double precision
 * from logits copied to the heap.
 */
class TokenShiftForwardTest {
  static final Path FIXTURES = Path.of("..", "fixtures", "causal-lm").toAbsolutePath().normalize();
  @TempDir static Path dir;
  static ModelSessions sessions;
  static OrtSession headSession;
  static TokenShiftHead head;
  static NllForward forward;
  static long[][] rows;
  static List<Window> windows = new ArrayList<>();

  @BeforeAll
  static void setUp() throws Exception {
    sessions =
        new ModelSessions(
            new ArtifactCache(Storage.withDefaults(), dir.resolve("cache"), Long.MAX_VALUE), 2);
    headSession = TokenShiftHead.load(sessions.environment(), new OrtSession.SessionOptions());
    head = new TokenShiftHead(sessions.environment(), headSession);
    forward = new NllForward(sessions.environment(), sessions::nllHead);
    List<String> lines =
        Files.readAllLines(FIXTURES.resolve("heldout.txt")).stream()
            .filter(l -> !l.isEmpty())
            .limit(4)
            .toList();
    rows = new long[lines.size()][];
    for (int r = 0; r < lines.size(); r++) {
      byte[] bytes = lines.get(r).getBytes(StandardCharsets.UTF_8);
      int n = Math.min(bytes.length, 128);
      rows[r] = new long[n];
      for (int t = 0; t < n; t++) {
        rows[r][t] = bytes[t] & 0xff;
      }
      windows.add(new Window(r, 0, n, 1));
    }
  }

  @AfterAll
  static void tearDown() throws Exception {
    headSession.close();
    sessions.close();
  }

  static ModelSessions.Lease lease(String name) throws Exception {
    String uri = FIXTURES.resolve(name).toUri().toString();
    return sessions.lease(new ArtifactRef(uri, Storage.withDefaults().sha256(uri)));
  }

  @Test
  void aModelAgainstItselfHasNoShiftAndAgreesEverywhere() throws Exception {
    try (ModelSessions.Lease base = lease("bytegpt-base.onnx")) {
      NllForward.WindowShift[] shifts =
          forward.shift(base.model(), base.model(), windows, rows, head);
      for (int w = 0; w < windows.size(); w++) {
        assertThat(shifts[w].positions()).isEqualTo(rows[w].length - 1);
        assertThat(shifts[w].klSum()).isCloseTo(0, within(1e-4));
        assertThat(shifts[w].agreements()).isEqualTo(shifts[w].positions());
        assertThat(shifts[w].dpTrueSum()).isCloseTo(0, within(1e-5));
      }
    }
  }

  @Test
  void theFineTuneShiftsAsTheHeapComputationSays() throws Exception {
    try (ModelSessions.Lease baseLease = lease("bytegpt-base.onnx");
        ModelSessions.Lease tunedLease = lease("bytegpt-finetuned.onnx")) {
      compareWithHeap(baseLease.model(), tunedLease.model());
    }
  }

  private void compareWithHeap(LoadedModel base, LoadedModel tuned) throws Exception {
    NllForward.WindowShift[] shifts = forward.shift(base, tuned, windows, rows, head);
    for (int w = 0; w < windows.size(); w++) {
      float[][] b = logits(base, rows[w]);
      float[][] c = logits(tuned, rows[w]);
      double kl = 0;
      double dp = 0;
      double nll = 0;
      long agree = 0;
      for (int t = 0; t + 1 < rows[w].length; t++) {
        double[] pb = softmax(b[t]);
        double[] pc = softmax(c[t]);
        for (int v = 0; v < pb.length; v++) {
          kl += pb[v] * (Math.log(pb[v]) - Math.log(pc[v]));
        }
        int next = (int) rows[w][t + 1];
        dp += pc[next] - pb[next];
        nll -= Math.log(pc[next]);
        agree += argmax(pb) == argmax(pc) ? 1 : 0;
      }
      assertThat(shifts[w].klSum())
          .as("window %d KL", w)
          .isCloseTo(kl, within(1e-4 * kl + 1e-5))
          .isPositive();
      assertThat(shifts[w].agreements())
          .as("window %d top-1 agreements", w)
          .isEqualTo(agree)
          .isLessThan(shifts[w].positions());
      assertThat(shifts[w].dpTrueSum())
          .as("window %d true-token probability change", w)
          .isCloseTo(dp, within(1e-4));
      assertThat(shifts[w].nllSum())
          .as("window %d candidate NLL", w)
          .isCloseTo(nll, within(1e-5 * nll));
    }
  }

  private static float[][] logits(LoadedModel model, long[] row) throws Exception {
    var env = sessions.environment();
    Map<String, OnnxTensor> inputs = new HashMap<>();
    inputs.put("input_ids", OnnxTensor.createTensor(env, new long[][] {row}));
    if (model.declaresInput("attention_mask")) {
      long[][] mask = new long[1][row.length];
      java.util.Arrays.fill(mask[0], 1);
      inputs.put("attention_mask", OnnxTensor.createTensor(env, mask));
    }
    try (OrtSession.Result result = model.session().run(inputs, Set.of("logits"))) {
      return ((float[][][]) result.get(0).getValue())[0];
    } finally {
      inputs.values().forEach(OnnxTensor::close);
    }
  }

  private static double[] softmax(float[] logits) {
    double max = Double.NEGATIVE_INFINITY;
    for (float l : logits) {
      max = Math.max(max, l);
    }
    double sum = 0;
    double[] p = new double[logits.length];
    for (int v = 0; v < logits.length; v++) {
      p[v] = Math.exp(logits[v] - max);
      sum += p[v];
    }
    for (int v = 0; v < p.length; v++) {
      p[v] /= sum;
    }
    return p;
  }

  private static int argmax(double[] p) {
    int best = 0;
    for (int v = 1; v < p.length; v++) {
      if (p[v] > p[best]) {
        best = v;
      }
    }
    return best;
  }
}
