package io.evalfleet.worker.inspect;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.TensorInfo;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.Task;
import io.evalfleet.worker.embedding.EmbeddingScorer;
import io.evalfleet.worker.embedding.Vectors;
import io.evalfleet.worker.model.LoadedModel;
import io.evalfleet.worker.model.ModelSessions;
import io.evalfleet.worker.perplexity.NllForward;
import io.evalfleet.worker.perplexity.Window;
import io.evalfleet.worker.scoring.ScoringException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What the worker would make of a model, without a golden subset: its signature, the task it looks
 * like, how the worker would feed it, and one probe run through the worker's own code, which fails
 * the same way a job would. Behind {@code evalfleet inspect}.
 */
public final class ModelInspector {
  private static final Pattern PAST = Pattern.compile("past_key_values\\.\\d+\\.(key|value)");
  private static final String PROBE = "The quick brown fox jumps over the lazy dog.";

  private final ModelSessions sessions;

  public ModelInspector(ModelSessions sessions) {
    this.sessions = sessions;
  }

  /**
   * What was found.
   *
   * @param task the task asked for, or the one the model looks like
   * @param feeding how the worker would feed the model and read it, one line each
   * @param problem why the fleet cannot score it; null when it can
   */
  public record Report(String signature, Task task, boolean taskGuessed, List<String> feeding, String problem) {
    public boolean scorable() {
      return problem == null;
    }
  }

  /**
   * @param tokenizer the model's tokenizer.json, or null (an embedding model's probe then cannot run)
   * @param task the task to inspect the model for, or null to guess it from its outputs
   */
  public Report inspect(ArtifactRef model, ArtifactRef tokenizer, Task task, EmbeddingConventions conventions) {
    try (ModelSessions.Lease lease = sessions.lease(model)) {
      LoadedModel loaded = lease.model();
      boolean guessed = task == null;
      Task as = guessed ? (loaded.outputs().containsKey(NllForward.LOGITS) ? Task.CAUSAL_LM : Task.EMBEDDING) : task;
      List<String> feeding = new ArrayList<>();
      try {
        if (as == Task.CAUSAL_LM) {
          causalLm(loaded, tokenizer, feeding);
        } else {
          embedding(loaded, tokenizer, EmbeddingConventions.orDefaults(conventions), feeding);
        }
        return new Report(loaded.signature(), as, guessed, feeding, null);
      } catch (ScoringException e) {
        return new Report(loaded.signature(), as, guessed, feeding, e.getMessage());
      }
    } catch (ScoringException e) {
      return new Report(null, task, task == null, List.of(), e.getMessage());
    }
  }

  private void causalLm(LoadedModel model, ArtifactRef tokenizer, List<String> feeding) throws ScoringException {
    long vocabulary = NllForward.checkSignature(model);
    feeding.add("input_ids: the row's token ids (int64), right-padded");
    for (Map.Entry<String, NodeInfo> input : model.inputs().entrySet()) {
      String name = input.getKey();
      if (name.equals("attention_mask")) {
        feeding.add("attention_mask: 1 for tokens, 0 for padding");
      } else if (name.equals("position_ids")) {
        feeding.add("position_ids: 0, 1, 2 ... within each window");
      } else if (PAST.matcher(name).matches()) {
        long[] shape = NllForward.emptyPastShape(name, input.getValue(), 1);
        feeding.add(name + ": an empty past [batch, " + shape[1] + ", 0, " + shape[3] + "] of "
            + ((TensorInfo) input.getValue().getInfo()).type);
      } else if (name.equals("use_cache_branch")) {
        feeding.add("use_cache_branch: false (a merged decoder, run without its cache)");
      }
    }
    TensorInfo logits = (TensorInfo) model.outputs().get(NllForward.LOGITS).getInfo();
    feeding.add("logits: " + logits.type + " over " + (vocabulary > 0 ? vocabulary + " tokens" : "a symbolic vocabulary")
        + (logits.type == ai.onnxruntime.OnnxJavaType.FLOAT ? "" : ", cast to float32 before the log-softmax")
        + "; only logits is fetched");
    long[] ids;
    if (tokenizer != null) {
      try (ModelSessions.TokenizerLease held = sessions.tokenizer(tokenizer, 0)) {
        ids = held.tokenizer().encode(PROBE).getIds();
        feeding.add("tokenizer: the probe sentence is " + ids.length + " tokens, special tokens as the tokenizer's"
            + " post-processor adds them");
      }
    } else {
      ids = new long[] {0, 1, 2, 3};
    }
    double nll = new NllForward(sessions.environment(), sessions::nllHead)
        .run(model, List.of(new Window(0, 0, ids.length, 1)), new long[][] {ids})[0];
    if (!Double.isFinite(nll)) {
      throw ScoringException.input("the probe run gave a non-finite log-likelihood (" + nll + ")");
    }
    feeding.add(String.format(java.util.Locale.ROOT, "probe: %d tokens scored, perplexity %.4g", ids.length - 1,
        Math.exp(nll / (ids.length - 1))));
  }

  private void embedding(LoadedModel model, ArtifactRef tokenizer, EmbeddingConventions conventions,
      List<String> feeding) throws ScoringException {
    if (!model.declaresInput("input_ids")) {
      throw ScoringException.input("embedding model has no 'input_ids' input; its inputs are " + model.inputs().keySet());
    }
    for (String name : model.inputs().keySet()) {
      if (!List.of("input_ids", "attention_mask", "token_type_ids").contains(name)) {
        throw ScoringException.input("embedding model input '" + name + "' is not supported (supported: input_ids,"
            + " attention_mask, token_type_ids)");
      }
    }
    feeding.add("inputs: " + String.join(", ", model.inputs().keySet()) + " from the tokenizer, padded per batch");
    String output = EmbeddingScorer.outputName(model, conventions);
    long[] shape = ((TensorInfo) model.outputs().get(output).getInfo()).getShape();
    feeding.add(shape.length == 2 ? "output " + output + ": already pooled, used as it is"
        : "output " + output + ": token vectors, pooled by " + conventions.pooling().wireName()
            + " (set embedding.pooling to the model's own sentence-transformers pooling)");
    feeding.add("conventions: " + conventions.describe());
    if (tokenizer == null) {
      feeding.add("probe: skipped (an embedding model needs --tokenizer to be run)");
      return;
    }
    try (ModelSessions.TokenizerLease held = sessions.tokenizer(tokenizer, 512)) {
      HuggingFaceTokenizer words = held.tokenizer();
      EmbeddingScorer scorer = new EmbeddingScorer(sessions, null, 8, 512);
      double[][] vectors = scorer.embed(model, words, conventions, List.of(conventions.prefixA() + PROBE,
          conventions.prefixB() + PROBE));
      feeding.add(String.format(java.util.Locale.ROOT, "probe: a %d-dimensional embedding; the sentence against itself"
          + " with both prefixes: cosine %.4f", vectors[0].length, Vectors.cosine(vectors[0], vectors[1])));
    }
  }
}
