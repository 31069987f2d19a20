package io.evalfleet.scoring.model;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.failure.FailureKind;
import io.evalfleet.common.failure.Failures;
import io.evalfleet.common.metrics.FleetMeter;
import io.evalfleet.scoring.ScoringException;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.bulkhead.BulkheadFullException;
import io.github.resilience4j.bulkhead.BulkheadRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedBulkheadMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ONNX Runtime sessions shared by every job, one per model digest, and one tokenizer per tokenizer
 * digest and length, both in {@link LeasePool}s. A job holds a {@link Lease} on its model (and a
 * {@link TokenizerLease} on its tokenizer) while it runs; two jobs of one model share one load.
 * Loads run at most {@code concurrentLoads} at a time (a resilience4j bulkhead: a load reads the
 * whole model and allocates its weights), other jobs wait their turn. At most {@code maxLoaded}
 * sessions stay open: the least recently used one no job holds is closed to make room. Thread-safe;
 * closes what it created.
 */
public final class ModelSessions implements AutoCloseable, MeterBinder {
  private static final Logger log = LoggerFactory.getLogger(ModelSessions.class);

  private final OrtEnvironment env = OrtEnvironment.getEnvironment();
  private final ArtifactCache cache;
  private final int intraOpThreads;
  private final Bulkhead loads;
  private final BulkheadRegistry loadRegistry;

  /** resilience4j's tagged meters of the load bulkhead. */
  private final MeterBinder loadBulkheadMetrics;

  /** Open sessions by model digest, one unit of weight each; an evicted one is closed. */
  private final LeasePool<String, LoadedModel> models;

  /** Tokenizers by digest and length; native resources, so closed only once no job holds them. */
  private final LeasePool<String, HuggingFaceTokenizer> tokenizers =
      new LeasePool<>(MAX_TOKENIZERS, t -> 1, (key, tokenizer) -> tokenizer.close());

  private static final int MAX_TOKENIZERS = 16;

  /** By the type of logits they take; guarded by {@code this}. */
  private final Map<OnnxJavaType, OrtSession> nllHeads = new EnumMap<>(OnnxJavaType.class);

  private OrtSession tokenShiftHead;

  private final ExecutionProvider provider;

  /** Whether sessions ask ONNX Runtime for deterministic kernels. */
  private final boolean deterministicCompute;

  /** Where loads are counted: a private registry until {@link #bindTo} names the real one. */
  private volatile LoadMeters loadMeters = new LoadMeters(new SimpleMeterRegistry());

  /** The meters a load updates, all on one registry. */
  private record LoadMeters(MeterRegistry registry, Timer loaded, Timer failed, Counter fallbacks) {
    LoadMeters(MeterRegistry registry) {
      this(
          registry,
          FleetMeter.MODEL_LOADS.timer(registry, "loaded"),
          FleetMeter.MODEL_LOADS.timer(registry, "failed"),
          FleetMeter.PROVIDER_FALLBACKS.counter(registry));
    }

    void sessionLoaded(String provider) {
      FleetMeter.SESSIONS_BY_PROVIDER.counter(registry, provider).increment();
    }
  }

  /** A job's hold on a loaded model: the session stays open until the lease is closed. */
  public static final class Lease implements AutoCloseable {
    private final LeasePool<String, LoadedModel>.Lease held;

    private Lease(LeasePool<String, LoadedModel>.Lease held) {
      this.held = held;
    }

    public LoadedModel model() {
      return held.value();
    }

    @Override
    public void close() {
      held.close();
    }
  }

  /** A job's hold on a tokenizer: it stays open until the lease is closed. */
  public static final class TokenizerLease implements AutoCloseable {
    private final LeasePool<String, HuggingFaceTokenizer>.Lease held;

    private TokenizerLease(LeasePool<String, HuggingFaceTokenizer>.Lease held) {
      this.held = held;
    }

    public HuggingFaceTokenizer tokenizer() {
      return held.value();
    }

    @Override
    public void close() {
      held.close();
    }
  }

  /** Sessions on the CPU provider, one load at a time, at most four open. */
  public ModelSessions(ArtifactCache cache, int intraOpThreads) {
    this(cache, intraOpThreads, ExecutionProvider.CPU, 1, 4);
  }

  public ModelSessions(ArtifactCache cache, int intraOpThreads, ExecutionProvider provider) {
    this(cache, intraOpThreads, provider, 1, 4);
  }

  public ModelSessions(
      ArtifactCache cache,
      int intraOpThreads,
      ExecutionProvider provider,
      int concurrentLoads,
      int maxLoaded) {
    this(cache, intraOpThreads, provider, concurrentLoads, maxLoaded, false);
  }

  /**
   * @param deterministicCompute whether every session asks ONNX Runtime for deterministic kernels
   *     ({@code SessionOptions.setDeterministicCompute}; {@code worker.deterministic-compute})
   */
  public ModelSessions(
      ArtifactCache cache,
      int intraOpThreads,
      ExecutionProvider provider,
      int concurrentLoads,
      int maxLoaded,
      boolean deterministicCompute) {
    provider.checkAvailable();
    this.deterministicCompute = deterministicCompute;
    if (maxLoaded < 1) {
      throw new IllegalArgumentException("at least one model must fit, got maxLoaded=" + maxLoaded);
    }
    this.cache = cache;
    this.intraOpThreads = intraOpThreads;
    this.provider = provider;
    this.models =
        new LeasePool<>(maxLoaded, model -> 1, (sha256, model) -> closeSession(model, maxLoaded));
    this.loadRegistry =
        BulkheadRegistry.of(
            BulkheadConfig.custom()
                .maxConcurrentCalls(concurrentLoads)
                .maxWaitDuration(Duration.ofMinutes(30))
                .build());
    this.loads = loadRegistry.bulkhead("model-loads");
    this.loadBulkheadMetrics = TaggedBulkheadMetrics.ofBulkheadRegistry(loadRegistry);
  }

  public OrtEnvironment environment() {
    return env;
  }

  /** ONNX Runtime intra-op threads of every session. */
  public int intraOpThreads() {
    return intraOpThreads;
  }

  /** Whether sessions ask ONNX Runtime for deterministic kernels. */
  public boolean deterministicCompute() {
    return deterministicCompute;
  }

  /**
   * Exports the model cache, the sessions, loads (by outcome), provider fallbacks and the load
   * bulkhead to {@code registry}; loads from then on are counted there.
   */
  @Override
  public void bindTo(MeterRegistry registry) {
    FleetMeter.MODEL_CACHE_HITS.functionCounter(registry, cache, ArtifactCache::hits);
    FleetMeter.MODEL_CACHE_FETCHES.functionCounter(registry, cache, ArtifactCache::fetches);
    FleetMeter.MODEL_CACHE_EVICTIONS.functionCounter(registry, cache, ArtifactCache::evictions);
    FleetMeter.MODEL_CACHE_BYTES.gauge(registry, cache::bytes);
    FleetMeter.MODEL_CACHE_LIMIT.gauge(registry, cache::maxBytes);
    FleetMeter.MODEL_SESSIONS.gauge(registry, this::loaded);
    loadBulkheadMetrics.bindTo(registry);
    this.loadMeters = new LoadMeters(registry);
  }

  /** The bulkhead that bounds concurrent loads, for metrics. */
  Bulkhead loadBulkhead() {
    return loads;
  }

  public ArtifactCache cache() {
    return cache;
  }

  /** Sessions open now. */
  public int loaded() {
    return models.size();
  }

  /** Sessions closed to make room so far. */
  long sessionsClosed() {
    return models.evictions();
  }

  /**
   * Holds the model's session for a job, loading it first if needed (waiting for a load slot).
   *
   * @throws ScoringException naming the cause when the model cannot be fetched, verified or loaded
   */
  public Lease lease(ArtifactRef ref) throws ScoringException {
    try {
      return new Lease(models.acquire(ref.sha256(), () -> loadCounted(ref)));
    } catch (ScoringException e) {
      throw e;
    } catch (BulkheadFullException e) {
      throw new ScoringException(
          FailureKind.RESOURCE_EXHAUSTED, "no model load slot became free: " + e.getMessage(), e);
    } catch (Exception e) {
      throw ScoringException.of("loading model " + ref.uri(), e);
    }
  }

  /** A load through the bulkhead, timed and counted by outcome. */
  private LoadedModel loadCounted(ArtifactRef ref) throws Exception {
    LoadMeters meters = loadMeters;
    long started = System.nanoTime();
    try {
      LoadedModel model = loads.executeCheckedSupplier(() -> load(ref));
      meters.loaded().record(Duration.ofNanos(System.nanoTime() - started));
      meters.sessionLoaded(model.executionProvider());
      if (model.providerFallback() != null) {
        meters.fallbacks().increment();
      }
      return model;
    } catch (Throwable e) {
      meters.failed().record(Duration.ofNanos(System.nanoTime() - started));
      if (e instanceof Exception exception) {
        throw exception;
      }
      throw (Error) e;
    }
  }

  private LoadedModel load(ArtifactRef ref) throws ScoringException {
    try (ArtifactCache.Use files = use(ref, "model");
        OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(intraOpThreads);
      options.setInterOpNumThreads(1);
      options.addConfigEntry("session.intra_op.allow_spinning", "0");
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      options.setDeterministicCompute(deterministicCompute);
      ExecutionProvider.Choice choice = provider.apply(options);
      long started = System.nanoTime();
      // By path, so that ONNX Runtime finds external data files beside the model.
      OrtSession session = env.createSession(files.path().toString(), options);
      LoadedModel loaded =
          new LoadedModel(
              ref.sha256(),
              session,
              session.getInputInfo(),
              session.getOutputInfo(),
              choice.provider(),
              choice.fallbackReason());
      log.info(
          "loaded model {} ({}) on {} in {} ms: inputs {}, outputs {}",
          ref.uri(),
          ref.sha256().substring(0, 12),
          loaded.executionProvider(),
          (System.nanoTime() - started) / 1_000_000,
          loaded.inputs().keySet(),
          loaded.outputs().keySet());
      return loaded;
    } catch (OrtException e) {
      if (Failures.isOutOfMemory(e)) {
        throw ScoringException.fromModel("loading model " + ref.uri() + " on " + provider, e);
      }
      throw ScoringException.input(
          "model " + ref.uri() + " is not a loadable ONNX model: " + e.getMessage(), e);
    }
  }

  private static void closeSession(LoadedModel model, int maxLoaded) {
    try {
      model.session().close();
      log.info(
          "closed the session of model {} to stay within {} loaded models",
          model.sha256().substring(0, 12),
          maxLoaded);
    } catch (OrtException e) {
      log.warn("closing session of {} failed", model.sha256(), e);
    }
  }

  /**
   * Holds the tokenizer in {@code tokenizer.json} for a job, truncating to {@code maxLength} tokens
   * (never if it is 0). Loaded once per digest and length, outside any lock that other loads wait
   * on; at most {@value #MAX_TOKENIZERS} are kept.
   */
  public TokenizerLease tokenizer(ArtifactRef ref, int maxLength) throws ScoringException {
    try {
      return new TokenizerLease(
          tokenizers.acquire(ref.sha256() + "/" + maxLength, () -> loadTokenizer(ref, maxLength)));
    } catch (ScoringException e) {
      throw e;
    } catch (Exception e) {
      throw ScoringException.of("loading tokenizer " + ref.uri(), e);
    }
  }

  private HuggingFaceTokenizer loadTokenizer(ArtifactRef ref, int maxLength)
      throws ScoringException {
    try (ArtifactCache.Use file = use(ref, "tokenizer")) {
      var builder =
          HuggingFaceTokenizer.builder()
              .optTokenizerPath(file.path())
              .optAddSpecialTokens(true)
              .optPadding(false)
              .optTruncation(maxLength > 0);
      if (maxLength > 0) {
        builder.optMaxLength(maxLength);
      }
      return builder.build();
    } catch (IOException | RuntimeException e) {
      throw ScoringException.input(
          "tokenizer " + ref.uri() + " cannot be read: " + e.getMessage(), e);
    }
  }

  /**
   * The NLL head (log-softmax and gather of the next token) for logits of {@code type} (float32,
   * float16 or bfloat16), shared by every causal LM.
   */
  public synchronized OrtSession nllHead(OnnxJavaType type) {
    OrtSession head = nllHeads.get(type);
    if (head == null) {
      head =
          loadHead(
              switch (type) {
                case FLOAT -> "/onnx/nll-head.onnx";
                case FLOAT16 -> "/onnx/nll-head-fp16.onnx";
                case BFLOAT16 -> "/onnx/nll-head-bf16.onnx";
                default ->
                    throw new IllegalArgumentException("no NLL head for " + type + " logits");
              });
      nllHeads.put(type, head);
    }
    return head;
  }

  /**
   * The token-shift head ({@code /onnx/token-shift-head.onnx}: KL, top-1 agreement and true-token
   * change between two causal LMs' logits), shared by every pair of models.
   */
  public synchronized OrtSession tokenShiftHead() {
    if (tokenShiftHead == null) {
      tokenShiftHead = loadHead("/onnx/token-shift-head.onnx");
    }
    return tokenShiftHead;
  }

  private OrtSession loadHead(String resource) {
    try (var in = ModelSessions.class.getResourceAsStream(resource);
        OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      if (in == null) {
        throw new IllegalStateException(resource + " is missing from the scoring jar");
      }
      options.setIntraOpNumThreads(intraOpThreads);
      options.setInterOpNumThreads(1);
      // A head runs right after the model, on the same cores: if its pool spun while idle it would
      // steal them from the model's next run (measured: perplexity at 0.52x of the bare forward
      // loop).
      options.addConfigEntry("session.intra_op.allow_spinning", "0");
      options.setDeterministicCompute(deterministicCompute);
      return env.createSession(in.readAllBytes(), options);
    } catch (IOException | OrtException e) {
      throw new IllegalStateException("cannot load " + resource, e);
    }
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
    models.clear();
    for (OrtSession head : nllHeads.values()) {
      try {
        head.close();
      } catch (OrtException e) {
        log.warn("closing an NLL head failed", e);
      }
    }
    nllHeads.clear();
    if (tokenShiftHead != null) {
      try {
        tokenShiftHead.close();
      } catch (OrtException e) {
        log.warn("closing the token-shift head failed", e);
      }
      tokenShiftHead = null;
    }
    tokenizers.clear();
  }
}
