package io.evalfleet.worker.model;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.failure.FailureKind;
import io.evalfleet.common.failure.Failures;
import io.evalfleet.common.metrics.FleetMeter;
import io.evalfleet.worker.scoring.ScoringException;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ONNX Runtime sessions shared by every job, one per model digest, and one tokenizer per tokenizer
 * digest and length. A job holds a {@link Lease} on its model while it runs; two jobs of one model
 * share one load. Loads run at most {@code concurrentLoads} at a time (a resilience4j bulkhead: a
 * load reads the whole model and allocates its weights), other jobs wait their turn. At most {@code
 * maxLoaded} sessions stay open: the least recently used one no job holds is closed to make room.
 * Thread-safe; closes what it created.
 */
public final class ModelSessions implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ModelSessions.class);

  private final OrtEnvironment env = OrtEnvironment.getEnvironment();
  private final ArtifactCache cache;
  private final int intraOpThreads;
  private final int maxLoaded;
  private final Bulkhead loads;
  private final io.github.resilience4j.bulkhead.BulkheadRegistry loadRegistry;
  /** By model digest, least recently leased first. Guarded by {@code this}. */
  private final LinkedHashMap<String, Slot> models = new LinkedHashMap<>(16, 0.75f, true);
  private final Map<String, HuggingFaceTokenizer> tokenizers = new HashMap<>();
  private static final String NLL_HEAD = "/onnx/nll-head.onnx";
  private OrtSession nllHead;
  private long sessionsClosed;

  private final ExecutionProvider provider;
  private volatile io.micrometer.core.instrument.MeterRegistry metrics =
      new io.micrometer.core.instrument.simple.SimpleMeterRegistry();

  /** A model's session, loaded once, and how many jobs hold it. */
  private static final class Slot {
    final CompletableFuture<LoadedModel> loaded = new CompletableFuture<>();
    int users;
  }

  /** A job's hold on a loaded model: the session stays open until the lease is closed. */
  public final class Lease implements AutoCloseable {
    private final String sha256;
    private final LoadedModel model;
    private boolean closed;

    private Lease(String sha256, LoadedModel model) {
      this.sha256 = sha256;
      this.model = model;
    }

    public LoadedModel model() {
      return model;
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        release(sha256);
      }
    }
  }

  /** Sessions on the CPU provider, one load at a time, at most four open. */
  public ModelSessions(ArtifactCache cache, int intraOpThreads) {
    this(cache, intraOpThreads, ExecutionProvider.CPU, 1, 4);
  }

  public ModelSessions(ArtifactCache cache, int intraOpThreads, ExecutionProvider provider) {
    this(cache, intraOpThreads, provider, 1, 4);
  }

  public ModelSessions(ArtifactCache cache, int intraOpThreads, ExecutionProvider provider, int concurrentLoads,
      int maxLoaded) {
    provider.checkAvailable();
    if (maxLoaded < 1) {
      throw new IllegalArgumentException("at least one model must fit, got maxLoaded=" + maxLoaded);
    }
    this.cache = cache;
    this.intraOpThreads = intraOpThreads;
    this.provider = provider;
    this.maxLoaded = maxLoaded;
    this.loadRegistry = io.github.resilience4j.bulkhead.BulkheadRegistry.of(BulkheadConfig.custom()
        .maxConcurrentCalls(concurrentLoads)
        .maxWaitDuration(Duration.ofMinutes(30))
        .build());
    this.loads = loadRegistry.bulkhead("model-loads");
  }

  public OrtEnvironment environment() {
    return env;
  }

  /**
   * Exports the model cache, the sessions, loads (by outcome), provider fallbacks and the load
   * bulkhead to {@code registry}.
   */
  public void bindTo(io.micrometer.core.instrument.MeterRegistry registry) {
    this.metrics = registry;
    FleetMeter.MODEL_CACHE_HITS.functionCounter(registry, cache, ArtifactCache::hits);
    FleetMeter.MODEL_CACHE_FETCHES.functionCounter(registry, cache, ArtifactCache::fetches);
    FleetMeter.MODEL_CACHE_EVICTIONS.functionCounter(registry, cache, ArtifactCache::evictions);
    FleetMeter.MODEL_CACHE_BYTES.gauge(registry, cache::bytes);
    FleetMeter.MODEL_CACHE_LIMIT.gauge(registry, cache::maxBytes);
    FleetMeter.MODEL_SESSIONS.gauge(registry, this::loaded);
    FleetMeter.PROVIDER_FALLBACKS.counter(registry);
    FleetMeter.MODEL_LOADS.timer(registry, "loaded");
    FleetMeter.MODEL_LOADS.timer(registry, "failed");
    io.github.resilience4j.micrometer.tagged.TaggedBulkheadMetrics.ofBulkheadRegistry(loadRegistry).bindTo(registry);
  }

  /** The bulkhead that bounds concurrent loads, for metrics. */
  public Bulkhead loadBulkhead() {
    return loads;
  }

  public ArtifactCache cache() {
    return cache;
  }

  /** Sessions open now. */
  public synchronized int loaded() {
    return (int) models.values().stream().filter(s -> s.loaded.isDone() && !s.loaded.isCompletedExceptionally()).count();
  }

  /** Sessions closed to make room so far. */
  public synchronized long sessionsClosed() {
    return sessionsClosed;
  }

  /**
   * Holds the model's session for a job, loading it first if needed (waiting for a load slot).
   *
   * @throws ScoringException naming the cause when the model cannot be fetched, verified or loaded
   */
  public Lease lease(ArtifactRef ref) throws ScoringException {
    Slot slot;
    boolean loadHere = false;
    synchronized (this) {
      slot = models.get(ref.sha256());
      if (slot == null) {
        slot = new Slot();
        models.put(ref.sha256(), slot);
        loadHere = true;
      }
      slot.users++;
    }
    if (loadHere) {
      long started = System.nanoTime();
      try {
        LoadedModel model = loads.executeCheckedSupplier(() -> load(ref));
        FleetMeter.MODEL_LOADS.timer(metrics, "loaded").record(Duration.ofNanos(System.nanoTime() - started));
        FleetMeter.SESSIONS_BY_PROVIDER.counter(metrics, model.executionProvider()).increment();
        if (model.providerFallback() != null) {
          FleetMeter.PROVIDER_FALLBACKS.counter(metrics).increment();
        }
        slot.loaded.complete(model);
      } catch (Throwable e) {
        FleetMeter.MODEL_LOADS.timer(metrics, "failed").record(Duration.ofNanos(System.nanoTime() - started));
        slot.loaded.completeExceptionally(e);
        synchronized (this) {
          models.remove(ref.sha256(), slot); // a failed load is tried again by the next job
        }
      }
    }
    try {
      LoadedModel model = slot.loaded.join();
      return new Lease(ref.sha256(), model);
    } catch (java.util.concurrent.CompletionException e) {
      release(ref.sha256(), slot);
      Throwable cause = e.getCause();
      if (cause instanceof ScoringException scoring) {
        throw scoring;
      }
      if (cause instanceof io.github.resilience4j.bulkhead.BulkheadFullException) {
        throw new ScoringException(FailureKind.RESOURCE_EXHAUSTED,
            "no model load slot became free: " + cause.getMessage(), cause);
      }
      throw ScoringException.of("loading model " + ref.uri(), cause);
    }
  }

  private LoadedModel load(ArtifactRef ref) throws ScoringException {
    try (ArtifactCache.Use files = use(ref, "model");
         OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(intraOpThreads);
      options.setInterOpNumThreads(1);
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      ExecutionProvider.Choice choice = provider.apply(options);
      long started = System.nanoTime();
      // By path, so that ONNX Runtime finds external data files beside the model.
      OrtSession session = env.createSession(files.path().toString(), options);
      LoadedModel loaded = new LoadedModel(ref.sha256(), session, session.getInputInfo(), session.getOutputInfo(),
          choice.provider(), choice.fallbackReason());
      log.info("loaded model {} ({}) on {} in {} ms: inputs {}, outputs {}", ref.uri(), ref.sha256().substring(0, 12),
          loaded.executionProvider(), (System.nanoTime() - started) / 1_000_000, loaded.inputs().keySet(),
          loaded.outputs().keySet());
      return loaded;
    } catch (OrtException e) {
      if (Failures.isOutOfMemory(e)) {
        throw ScoringException.fromModel("loading model " + ref.uri() + " on " + provider, e);
      }
      throw ScoringException.input("model " + ref.uri() + " is not a loadable ONNX model: " + e.getMessage(), e);
    }
  }

  private void release(String sha256) {
    synchronized (this) {
      release(sha256, models.get(sha256));
    }
  }

  private synchronized void release(String sha256, Slot slot) {
    if (slot != null) {
      slot.users--;
    }
    closeIdleOverLimit();
  }

  /** Closes least recently used sessions no job holds while more than {@code maxLoaded} are open. */
  private void closeIdleOverLimit() {
    var it = models.entrySet().iterator();
    int open = models.size();
    while (open > maxLoaded && it.hasNext()) {
      var entry = it.next();
      Slot slot = entry.getValue();
      if (slot.users > 0 || !slot.loaded.isDone()) {
        continue;
      }
      it.remove();
      open--;
      LoadedModel model = slot.loaded.getNow(null);
      if (model != null) {
        try {
          model.session().close();
          sessionsClosed++;
          log.info("closed the session of model {} to stay within {} loaded models", entry.getKey().substring(0, 12),
              maxLoaded);
        } catch (OrtException e) {
          log.warn("closing session of {} failed", entry.getKey(), e);
        }
      }
    }
  }

  /** The tokenizer in {@code tokenizer.json}, truncating to {@code maxLength} tokens, or never if it is 0. */
  public synchronized HuggingFaceTokenizer tokenizer(ArtifactRef ref, int maxLength) throws ScoringException {
    String key = ref.sha256() + "/" + maxLength;
    HuggingFaceTokenizer tokenizer = tokenizers.get(key);
    if (tokenizer != null) {
      return tokenizer;
    }
    try (ArtifactCache.Use file = use(ref, "tokenizer")) {
      var builder = HuggingFaceTokenizer.builder()
          .optTokenizerPath(file.path())
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

  private ArtifactCache.Use use(ArtifactRef ref, String what) throws ScoringException {
    try {
      return cache.acquire(ref);
    } catch (IOException e) {
      throw ScoringException.of("cannot read " + what + " " + ref.uri(), e);
    }
  }

  @Override
  public synchronized void close() {
    for (Slot slot : models.values()) {
      LoadedModel model = slot.loaded.getNow(null);
      if (model == null) {
        continue;
      }
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
