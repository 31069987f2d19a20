package io.evalfleet.worker.model;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.storage.DigestMismatchException;
import io.evalfleet.worker.scoring.ScoringException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ONNX Runtime session per model digest and one tokenizer per tokenizer digest and length,
 * shared by every job. Loads are serialised; lookups of loaded models are cheap. Closes what it
 * created.
 */
public final class ModelSessions implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ModelSessions.class);

  private final OrtEnvironment env = OrtEnvironment.getEnvironment();
  private final ArtifactCache cache;
  private final int intraOpThreads;
  private final Map<String, LoadedModel> models = new HashMap<>();
  private final Map<String, HuggingFaceTokenizer> tokenizers = new HashMap<>();
  private static final String NLL_HEAD = "/onnx/nll-head.onnx";
  private OrtSession nllHead;

  private final ExecutionProvider provider;

  /** Sessions on the CPU provider. */
  public ModelSessions(ArtifactCache cache, int intraOpThreads) {
    this(cache, intraOpThreads, ExecutionProvider.CPU);
  }

  public ModelSessions(ArtifactCache cache, int intraOpThreads, ExecutionProvider provider) {
    provider.checkAvailable();
    this.cache = cache;
    this.intraOpThreads = intraOpThreads;
    this.provider = provider;
  }

  public OrtEnvironment environment() {
    return env;
  }

  public synchronized LoadedModel model(ArtifactRef ref) throws ScoringException {
    LoadedModel loaded = models.get(ref.sha256());
    if (loaded != null) {
      return loaded;
    }
    Path file = localFile(ref, "model");
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(intraOpThreads);
      options.setInterOpNumThreads(1);
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      ExecutionProvider.Choice choice = provider.apply(options);
      long started = System.nanoTime();
      OrtSession session = env.createSession(file.toString(), options);
      loaded = new LoadedModel(ref.sha256(), session, session.getInputInfo(), session.getOutputInfo(),
          choice.provider(), choice.fallbackReason());
      log.info("loaded model {} ({}) on {} in {} ms: inputs {}, outputs {}", ref.uri(), ref.sha256().substring(0, 12),
          loaded.executionProvider(), (System.nanoTime() - started) / 1_000_000, loaded.inputs().keySet(),
          loaded.outputs().keySet());
    } catch (OrtException e) {
      throw ScoringException.input("model " + ref.uri() + " is not a loadable ONNX model: " + e.getMessage(), e);
    }
    models.put(ref.sha256(), loaded);
    return loaded;
  }

  /** The tokenizer in {@code tokenizer.json}, truncating to {@code maxLength} tokens, or never if it is 0. */
  public synchronized HuggingFaceTokenizer tokenizer(ArtifactRef ref, int maxLength) throws ScoringException {
    String key = ref.sha256() + "/" + maxLength;
    HuggingFaceTokenizer tokenizer = tokenizers.get(key);
    if (tokenizer != null) {
      return tokenizer;
    }
    Path file = localFile(ref, "tokenizer");
    try {
      var builder = HuggingFaceTokenizer.builder()
          .optTokenizerPath(file)
          .optAddSpecialTokens(true)
          .optPadding(false)
          .optTruncation(maxLength > 0);
      if (maxLength > 0) {
        builder.optMaxLength(maxLength);
      }
      tokenizer = builder.build();
    } catch (IOException | RuntimeException e) {
      throw ScoringException.input("tokenizer " + ref.uri() + " cannot be read: " + e.getMessage(), e);
    }
    tokenizers.put(key, tokenizer);
    return tokenizer;
  }

  /** The NLL head (log-softmax and gather of the next token), shared by every causal LM. */
  public synchronized OrtSession nllHead() {
    if (nllHead == null) {
      try (var in = ModelSessions.class.getResourceAsStream(NLL_HEAD);
           OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
        if (in == null) {
          throw new IllegalStateException(NLL_HEAD + " is missing from the worker jar");
        }
        options.setIntraOpNumThreads(intraOpThreads);
        options.setInterOpNumThreads(1);
        // The head runs right after the model, on the same cores: if its pool spun while idle it would
        // steal them from the model's next run (measured: perplexity at 0.52x of the bare forward loop).
        options.addConfigEntry("session.intra_op.allow_spinning", "0");
        nllHead = env.createSession(in.readAllBytes(), options);
      } catch (IOException | OrtException e) {
        throw new IllegalStateException("cannot load " + NLL_HEAD, e);
      }
    }
    return nllHead;
  }

  private Path localFile(ArtifactRef ref, String what) throws ScoringException {
    try {
      return cache.localFile(ref);
    } catch (FileNotFoundException | DigestMismatchException e) {
      throw ScoringException.input(what + " " + e.getMessage(), e);
    } catch (IOException e) {
      throw new ScoringException(io.evalfleet.common.contract.ShardError.TRANSIENT,
          "cannot read " + what + " " + ref.uri() + ": " + e.getMessage(), e);
    }
  }

  @Override
  public synchronized void close() {
    for (LoadedModel model : models.values()) {
      try {
        model.session().close();
      } catch (OrtException e) {
        log.warn("closing session of {} failed", model.sha256(), e);
      }
    }
    models.clear();
    if (nllHead != null) {
      try {
        nllHead.close();
      } catch (OrtException e) {
        log.warn("closing the NLL head failed", e);
      }
      nllHead = null;
    }
    tokenizers.values().forEach(HuggingFaceTokenizer::close);
    tokenizers.clear();
  }
}
