package io.evalfleet.scoring.inspect;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.TensorInfo;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.model.ModelVocabulary;
import io.evalfleet.common.model.TokenizerVocabulary;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.Task;
import io.evalfleet.scoring.ScoringException;
import io.evalfleet.scoring.embedding.EmbeddingScorer;
import io.evalfleet.scoring.embedding.Vectors;
import io.evalfleet.scoring.model.ArtifactCache;
import io.evalfleet.scoring.model.LoadedModel;
import io.evalfleet.scoring.model.ModelSessions;
import io.evalfleet.scoring.perplexity.CausalLmScorer;
import io.evalfleet.scoring.perplexity.NllForward;
import io.evalfleet.scoring.perplexity.Windows;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What the worker would make of a model, without a golden subset: its signature, the task it looks
 * like, how the worker would feed it, and one probe run through the worker's own code, which fails
 * the same way a job would. What it says about batching, pooling and windows comes from the
 * worker's scorers themselves ({@link EmbeddingScorer}, {@link CausalLmScorer}), built as a worker
 * builds them from the same settings, so the {@code batching} it prints is the one a job's result
 * reports. Behind {@code evalfleet inspect}.
 */
public final class ModelInspector {
  private static final Pattern PAST = Pattern.compile("past_key_values\\.\\d+\\.(key|value)");
  private static final String PROBE = "The quick brown fox jumps over the lazy dog.";

  /** What a causal LM is fed without a tokenizer: enough to run the graph, not text. */
  private static final long[] SMOKE_IDS = {0, 1, 2, 3};

  /**
   * A causal LM's context when none is given: short enough for small models' position tables, long
   * enough that the probe sentence is padded in the batch-invariance probe.
   */
  public static final int DEFAULT_CAUSAL_MAX_SEQ_LEN = 64;

  private final ModelSessions sessions;
  private final EmbeddingScorer embeddings;
  private final CausalLmScorer causalLm;
  private final int defaultMaxSeqLen;

  /** Scorers as a worker with default settings builds them. */
  public ModelInspector(ModelSessions sessions) {
    this(sessions, FleetConfig.defaults());
  }

  /**
   * Scorers as a worker with {@code config} builds them ({@code worker.batch-size}, the logits
   * budget, ...).
   */
  public ModelInspector(ModelSessions sessions, FleetConfig config) {
    this.sessions = sessions;
    int batchSize = config.get(FleetConfig.BATCH_SIZE);
    this.defaultMaxSeqLen = config.get(FleetConfig.MAX_SEQ_LEN);
    this.embeddings = new EmbeddingScorer(sessions, null, batchSize, defaultMaxSeqLen);
    this.causalLm =
        new CausalLmScorer(sessions, null, batchSize, config.get(FleetConfig.LOGITS_BUDGET));
  }

  /**
   * What to inspect; built by name ({@code Subject.of(model).tokenizer(t).maxSeqLen(128)}).
   *
   * @param tokenizer the model's tokenizer.json, or null (an embedding model's probe then cannot
   *     run, a causal LM's only runs its graph)
   * @param task the task to inspect the model for, or null to guess it from its outputs
   * @param conventions an embedding model's conventions, or null for the defaults
   * @param maxSeqLen a causal LM's context in tokens (the event's {@code max_seq_len}); null for
   *     {@value #DEFAULT_CAUSAL_MAX_SEQ_LEN}
   * @param stride a causal LM's sliding-window stride; null for the task's default
   */
  public record Subject(
      ArtifactRef model,
      ArtifactRef tokenizer,
      Task task,
      EmbeddingConventions conventions,
      Integer maxSeqLen,
      Integer stride) {
    public static Subject of(ArtifactRef model) {
      return new Subject(model, null, null, null, null, null);
    }

    public Subject tokenizer(ArtifactRef tokenizer) {
      return new Subject(model, tokenizer, task, conventions, maxSeqLen, stride);
    }

    public Subject task(Task task) {
      return new Subject(model, tokenizer, task, conventions, maxSeqLen, stride);
    }

    public Subject conventions(EmbeddingConventions conventions) {
      return new Subject(model, tokenizer, task, conventions, maxSeqLen, stride);
    }

    public Subject window(Integer maxSeqLen, Integer stride) {
      return new Subject(model, tokenizer, task, conventions, maxSeqLen, stride);
    }
  }

  /**
   * What was found.
   *
   * @param task the task asked for, or the one the model looks like
   * @param feeding how the worker would feed the model and read it, one line each
   * @param batching how a worker groups this model's rows, exactly as a job's result reports it
   *     ({@code padded-batches}, {@code one-at-a-time}, {@code length-buckets}, {@code
   *     one-window-at-a-time}); null when it could not be probed
   * @param problem why the fleet cannot score it; null when it can
   */
  public record Report(
      String signature,
      Task task,
      boolean taskGuessed,
      List<String> feeding,
      String batching,
      String problem) {
    public boolean scorable() {
      return problem == null;
    }
  }

  /** {@link #inspect(Subject)} with a causal LM's default window. */
  public Report inspect(
      ArtifactRef model, ArtifactRef tokenizer, Task task, EmbeddingConventions conventions) {
    return inspect(Subject.of(model).tokenizer(tokenizer).task(task).conventions(conventions));
  }

  public Report inspect(Subject subject) {
    try (ModelSessions.Lease lease = sessions.lease(subject.model())) {
      LoadedModel loaded = lease.model();
      boolean guessed = subject.task() == null;
      Task as =
          guessed
              ? (loaded.outputs().containsKey(NllForward.LOGITS) ? Task.CAUSAL_LM : Task.EMBEDDING)
              : subject.task();
      List<String> feeding = new ArrayList<>();
      String[] batching = {null};
      try {
        if (as == Task.CAUSAL_LM) {
          causalLm(loaded, subject, feeding, batching);
        } else {
          embedding(loaded, subject, feeding, batching);
        }
        return new Report(loaded.signature(), as, guessed, feeding, batching[0], null);
      } catch (ScoringException e) {
        return new Report(loaded.signature(), as, guessed, feeding, batching[0], e.getMessage());
      }
    } catch (ScoringException e) {
      return new Report(
          null, subject.task(), subject.task() == null, List.of(), null, e.getMessage());
    }
  }

  private void causalLm(LoadedModel model, Subject subject, List<String> feeding, String[] batching)
      throws ScoringException {
    long logitsSize = NllForward.checkSignature(model);
    feeding.add("input_ids: the row's token ids (int64), right-padded");
    for (Map.Entry<String, NodeInfo> input : model.inputs().entrySet()) {
      String name = input.getKey();
      if (name.equals("attention_mask")) {
        feeding.add("attention_mask: 1 for tokens, 0 for padding");
      } else if (name.equals("position_ids")) {
        feeding.add("position_ids: 0, 1, 2 ... within each window");
      } else if (PAST.matcher(name).matches()) {
        long[] shape = NllForward.emptyPastShape(name, input.getValue(), 1);
        feeding.add(
            name
                + ": an empty past [batch, "
                + shape[1]
                + ", 0, "
                + shape[3]
                + "] of "
                + ((TensorInfo) input.getValue().getInfo()).type);
      } else if (name.equals("use_cache_branch")) {
        feeding.add("use_cache_branch: false (a merged decoder, run without its cache)");
      }
    }
    TensorInfo logits = (TensorInfo) model.outputs().get(NllForward.LOGITS).getInfo();
    // The head a job's logits go to: one that takes another type than float32 casts before its
    // log-softmax.
    boolean cast;
    try {
      cast =
          ((TensorInfo)
                      sessions.nllHead(logits.type).getInputInfo().get(NllForward.LOGITS).getInfo())
                  .type
              != ai.onnxruntime.OnnxJavaType.FLOAT;
    } catch (ai.onnxruntime.OrtException e) {
      throw ScoringException.of("reading the NLL head for " + logits.type + " logits", e);
    }
    feeding.add(
        "logits: "
            + logits.type
            + " over "
            + (logitsSize > 0 ? logitsSize + " tokens" : "a symbolic vocabulary")
            + (cast ? ", cast to float32 before the log-softmax" : "")
            + "; only logits is fetched");
    Optional<ModelVocabulary> vocabulary = vocabulary(subject.model());
    if (vocabulary.isEmpty() && logitsSize > 0) {
      vocabulary = Optional.of(new ModelVocabulary(logitsSize, "its logits output"));
    }
    int maxLen = subject.maxSeqLen() != null ? subject.maxSeqLen() : DEFAULT_CAUSAL_MAX_SEQ_LEN;
    int stride = Task.CAUSAL_LM.spec().stride(maxLen, subject.stride());
    if (maxLen < 2 || stride < 1 || stride >= maxLen) {
      throw ScoringException.input(
          "max_seq_len "
              + maxLen
              + " and stride "
              + stride
              + " leave no window: max_seq_len"
              + " must be at least 2 and the stride between 1 and max_seq_len - 1");
    }
    feeding.add(
        "windows: max_seq_len "
            + maxLen
            + (subject.maxSeqLen() == null
                ? " (inspect's default; give the" + " event's with --max-seq-len)"
                : "")
            + ", stride "
            + stride
            + (subject.stride() == null ? " (half of it)" : "")
            + ": a row of more than "
            + maxLen
            + " tokens is scored in windows starting every "
            + stride
            + " tokens, each token once, never truncated");
    if (subject.tokenizer() == null) {
      fits(vocabulary, null, SMOKE_IDS[SMOKE_IDS.length - 1]);
      CausalLmScorer.Scores smoke =
          causalLm.scoreRows(model, new long[][] {SMOKE_IDS}, maxLen, stride, 0);
      batching[0] = smoke.batching();
      feeding.add("batching: " + batching[0] + describeCausalBatching(batching[0]));
      feeding.add(
          "probe: no tokenizer: fed token ids 0..3, a smoke test of the graph (its log-likelihoods are"
              + " finite), not a perplexity; give --tokenizer to probe it on text");
      return;
    }
    fits(vocabulary, subject.tokenizer(), -1).ifPresent(feeding::add);
    long[] ids;
    try (ModelSessions.TokenizerLease held = sessions.tokenizer(subject.tokenizer(), 0)) {
      ids = held.tokenizer().encode(PROBE).getIds();
    }
    if (ids.length < 2) {
      throw ScoringException.input(
          "the tokenizer makes "
              + ids.length
              + " token(s) of the probe sentence \""
              + PROBE
              + "\": at least 2 are needed to score one");
    }
    CausalLmScorer.Scores scores = causalLm.scoreRows(model, new long[][] {ids}, maxLen, stride, 0);
    batching[0] = scores.batching();
    feeding.add("batching: " + batching[0] + describeCausalBatching(batching[0]));
    int windows = Windows.plan(0, ids.length, maxLen, stride).size();
    feeding.add(
        String.format(
            Locale.ROOT,
            "probe: \"%s\" is %d tokens (special tokens as the tokenizer's"
                + " post-processor adds them); %d scored in %d window%s: perplexity %.4g",
            PROBE,
            ids.length,
            (long) scores.tokens()[0],
            windows,
            windows == 1 ? "" : "s",
            Math.exp(scores.nllSum()[0] / scores.tokens()[0])));
  }

  private static String describeCausalBatching(String batching) {
    return batching.equals(CausalLmScorer.LENGTH_BUCKETS)
        ? " (a window scores the same alone and in a padded batch: windows are sorted by length and batched)"
        : " (a window's score moves with its batch: each window is run alone)";
  }

  private void embedding(
      LoadedModel model, Subject subject, List<String> feeding, String[] batching)
      throws ScoringException {
    EmbeddingConventions conventions = EmbeddingConventions.orDefaults(subject.conventions());
    if (!model.declaresInput("input_ids")) {
      throw ScoringException.input(
          "embedding model has no 'input_ids' input; its inputs are " + model.inputs().keySet());
    }
    for (String name : model.inputs().keySet()) {
      if (!List.of("input_ids", "attention_mask", "token_type_ids").contains(name)) {
        throw ScoringException.input(
            "embedding model input '"
                + name
                + "' is not supported (supported: input_ids,"
                + " attention_mask, token_type_ids)");
      }
    }
    feeding.add("inputs: " + String.join(", ", model.inputs().keySet()) + " from the tokenizer");
    String output = EmbeddingScorer.outputName(model, conventions);
    long[] shape = ((TensorInfo) model.outputs().get(output).getInfo()).getShape();
    feeding.add(
        shape.length == 2
            ? "output " + output + ": already pooled, used as it is"
            : "output "
                + output
                + ": token vectors, pooled by "
                + conventions.pooling().wireName()
                + (subject.conventions() == null
                    ? " (the default; a model's own sentence-transformers pooling, 1_Pooling/config.json, is read when"
                        + " the model is given as its folder, or set --pooling)"
                    : ""));
    feeding.add("conventions: " + conventions.describe());
    Optional<ModelVocabulary> vocabulary = vocabulary(subject.model());
    if (subject.tokenizer() == null) {
      vocabulary.ifPresent(
          v ->
              feeding.add(
                  "vocabulary: the model accepts " + v.size() + " token ids (" + v.source() + ")"));
      feeding.add(
          "batching: not probed (it needs --tokenizer): a worker runs the model in padded batches only when"
              + " a text embeds the same alone and inside a padded batch, else one text at a time");
      feeding.add("probe: skipped (an embedding model needs --tokenizer to be run)");
      return;
    }
    fits(vocabulary, subject.tokenizer(), -1).ifPresent(feeding::add);
    try (ModelSessions.TokenizerLease held =
        sessions.tokenizer(subject.tokenizer(), defaultMaxSeqLen)) {
      HuggingFaceTokenizer words = held.tokenizer();
      batching[0] = embeddings.batching(model, words, conventions);
      feeding.add(
          "batching: "
              + batching[0]
              + (batching[0].equals(EmbeddingScorer.PADDED_BATCHES)
                  ? " (a text embeds the same alone and inside a padded batch: texts are sorted by length, up to "
                      + embeddings.batchSize()
                      + " a batch)"
                  : " (a text's embedding moves with the other texts in its batch, as a dynamically quantised graph's does:"
                      + " each text is run alone)"));
      double[][] vectors =
          embeddings.embed(
              model,
              words,
              conventions,
              List.of(conventions.prefixA() + PROBE, conventions.prefixB() + PROBE));
      feeding.add(
          String.format(
              Locale.ROOT,
              "probe: a %d-dimensional embedding; the sentence against itself"
                  + " with both prefixes: cosine %.4f",
              vectors[0].length,
              Vectors.cosine(vectors[0], vectors[1])));
    }
  }

  /**
   * Refuses a tokenizer (or, without one, the ids up to {@code smokeMaxId}) beyond the model's
   * vocabulary before anything runs, so the answer names both sizes rather than ONNX Runtime's
   * out-of-range gather; the line to print when it fits.
   */
  private Optional<String> fits(
      Optional<ModelVocabulary> model, ArtifactRef tokenizer, long smokeMaxId)
      throws ScoringException {
    if (model.isEmpty()) {
      return Optional.of(
          "vocabulary: the graph does not fix how many token ids the model accepts; not checked");
    }
    ModelVocabulary vocabulary = model.get();
    if (tokenizer == null) {
      if (smokeMaxId >= vocabulary.size()) {
        throw ScoringException.input(
            "the model accepts only ids 0.."
                + (vocabulary.size() - 1)
                + " ("
                + vocabulary.source()
                + "): too few for a probe without a tokenizer; give --tokenizer");
      }
      return Optional.empty();
    }
    Optional<TokenizerVocabulary> ids;
    try (ArtifactCache.Use file = sessions.cache().acquire(tokenizer);
        InputStream in = Files.newInputStream(file.path())) {
      ids = TokenizerVocabulary.read(in);
    } catch (IOException e) {
      throw ScoringException.input(
          "tokenizer " + tokenizer.uri() + " cannot be read: " + e.getMessage(), e);
    }
    if (ids.isEmpty()) {
      return Optional.of("vocabulary: the tokenizer lists no ids; not checked");
    }
    Optional<String> misfit = ids.get().misfit(vocabulary);
    if (misfit.isPresent()) {
      throw ScoringException.input(misfit.get());
    }
    return Optional.of(
        "vocabulary: the tokenizer's ids go up to "
            + ids.get().maxId()
            + "; the model accepts ids 0.."
            + (vocabulary.size() - 1)
            + " ("
            + vocabulary.source()
            + ")");
  }

  /** The vocabulary the model's graph fixes, read from its cached file. */
  private Optional<ModelVocabulary> vocabulary(ArtifactRef model) throws ScoringException {
    try (ArtifactCache.Use file = sessions.cache().acquire(model);
        InputStream in = Files.newInputStream(file.path())) {
      return ModelVocabulary.read(in);
    } catch (IOException e) {
      throw ScoringException.of("reading the graph of model " + model.uri(), e);
    }
  }
}
