package io.evalfleet.dispatcher.preflight;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.failure.FailureKind;
import io.evalfleet.common.failure.Failures;
import io.evalfleet.common.model.ModelVocabulary;
import io.evalfleet.common.model.TokenizerVocabulary;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetFile;
import io.evalfleet.common.task.SubsetLayout;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;

/**
 * Checks a staged event before any job is published: the artifact, tokenizer and golden subset
 * exist and have their promised digests, the tokenizer's ids fit the vocabulary the model's graph
 * fixes ({@link ModelVocabulary}: its embedding table or its logits), and the subset has the
 * columns its task's {@link io.evalfleet.common.task.TaskSpec} reads. Blocking (it reads files):
 * run it off the poll thread.
 */
public final class Preflight {
  private final Storage storage;

  /**
   * By digest, what a model's graph or a tokenizer says about token ids (empty: it does not say):
   * read once per digest, so a burst of events staging one large model reads it once, as verify
   * hashes it once.
   */
  private final Cache<String, Optional<ModelVocabulary>> models =
      Caffeine.newBuilder().maximumSize(1_000).build();

  private final Cache<String, Optional<TokenizerVocabulary>> tokenizers =
      Caffeine.newBuilder().maximumSize(1_000).build();

  public Preflight(Storage storage) {
    this.storage = storage;
  }

  public Storage storage() {
    return storage;
  }

  /** A staged event that cannot be evaluated, with the reason. */
  public static final class Rejected extends Exception {
    public Rejected(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * The event's files verified and the golden subset's columns checked against its task.
   *
   * @throws Rejected naming the file, digest or column at fault
   * @throws IOException when storage cannot be reached: not the event's fault, so it is not
   *     rejected
   */
  public Checked check(StagedWeightEvent event) throws Rejected, IOException {
    verify("artifact", event.artifact());
    for (int i = 0; i < event.artifact().externalData().size(); i++) {
      verify("artifact.external_data[" + i + "]", event.artifact().externalData().get(i));
    }
    if (event.tokenizer() != null) {
      verify("tokenizer", event.tokenizer());
      Optional<String> misfit = vocabularyMisfit(event);
      if (misfit.isPresent()) {
        throw new Rejected("tokenizer: " + misfit.get(), null);
      }
    }
    verify(
        "golden_subset",
        new ArtifactRef(event.goldenSubset().uri(), event.goldenSubset().sha256()));
    GoldenSubsetFile footer;
    SubsetLayout layout;
    try {
      footer = GoldenSubsetFile.readFooter(storage, event.goldenSubset().uri());
      layout =
          event
              .task()
              .spec()
              .layout(footer, event.goldenSubset()::column, event.tokenizer() != null);
    } catch (IOException e) {
      if (Failures.kindOf(e) != FailureKind.BAD_INPUT) {
        throw e;
      }
      throw new Rejected(e.getMessage(), e);
    }
    if (footer.rowCount() == 0) {
      throw new Rejected("golden subset " + event.goldenSubset().uri() + " has no rows", null);
    }
    return new Checked(footer, layout);
  }

  /**
   * What pre-flight learned: the subset's footer (for the shard plan) and its columns for the task.
   */
  public record Checked(GoldenSubsetFile footer, SubsetLayout layout) {}

  /**
   * Why the event's tokenizer cannot feed its model: ids beyond the vocabulary the model's graph
   * fixes. Empty when they fit, and when either file does not say (a graph that leaves its
   * vocabulary symbolic, a file that is not an ONNX graph or a tokenizer.json): the worker then
   * finds out.
   */
  private Optional<String> vocabularyMisfit(StagedWeightEvent event) throws IOException {
    Optional<TokenizerVocabulary> tokenizer = tokenizers.getIfPresent(event.tokenizer().sha256());
    if (tokenizer == null) {
      try (InputStream in = storage.open(event.tokenizer().uri())) {
        tokenizer = TokenizerVocabulary.read(in);
      } catch (JsonProcessingException e) {
        tokenizer = Optional.empty();
      }
      tokenizers.put(event.tokenizer().sha256(), tokenizer);
    }
    if (tokenizer.isEmpty()) {
      return Optional.empty();
    }
    Optional<ModelVocabulary> model = models.getIfPresent(event.artifact().sha256());
    if (model == null) {
      try (InputStream in = storage.open(event.artifact().uri())) {
        model = ModelVocabulary.read(in);
      } catch (ModelVocabulary.NotOnnx e) {
        model = Optional.empty();
      }
      models.put(event.artifact().sha256(), model);
    }
    TokenizerVocabulary ids = tokenizer.get();
    return model.flatMap(ids::misfit);
  }

  private void verify(String field, ArtifactRef ref) throws Rejected, IOException {
    try {
      storage.verify(ref.uri(), ref.sha256());
    } catch (IOException e) {
      if (Failures.kindOf(e) != FailureKind.BAD_INPUT) {
        throw e;
      }
      throw new Rejected(field + ": " + e.getMessage(), e);
    }
  }
}
