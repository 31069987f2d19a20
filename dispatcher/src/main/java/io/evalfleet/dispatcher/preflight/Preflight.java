package io.evalfleet.dispatcher.preflight;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.MetricNames;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.Task;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetFile;
import java.io.IOException;
import java.util.List;

/**
 * Checks a staged event before any job is published: the artifact, tokenizer and golden subset
 * exist and have their promised digests, and the subset has the columns the task needs. Returns
 * the subset's footer for shard planning. Blocking (it reads files): run it off the poll thread.
 */
public final class Preflight {
  /** The roles each task needs from the golden subset, and whether they are text. */
  private static final List<String> EMBEDDING_TEXT_ROLES = List.of("text_a", "text_b");

  private final Storage storage;

  public Preflight(Storage storage) {
    this.storage = storage;
  }

  /** A staged event that cannot be evaluated, with the reason. */
  public static final class Rejected extends Exception {
    public Rejected(String message, Throwable cause) {
      super(message, cause);
    }
  }

  public GoldenSubsetFile check(StagedWeightEvent event) throws Rejected {
    if (event.task() == Task.CAUSAL_LM) {
      throw new Rejected("task causal-lm is not supported by this dispatcher", null);
    }
    if (event.task() == Task.EMBEDDING && event.tokenizer() == null) {
      throw new Rejected("task embedding needs a tokenizer (tokenizer.uri and tokenizer.sha256)", null);
    }
    verify("artifact", event.artifact());
    if (event.tokenizer() != null) {
      verify("tokenizer", event.tokenizer());
    }
    verify("golden_subset", new ArtifactRef(event.goldenSubset().uri(), event.goldenSubset().sha256()));
    try {
      GoldenSubsetFile footer = GoldenSubsetFile.readFooter(storage, event.goldenSubset().uri());
      for (String role : EMBEDDING_TEXT_ROLES) {
        footer.requireText(role, event.goldenSubset().column(role));
      }
      String gold = event.goldenSubset().column(MetricNames.GOLD);
      if (footer.hasColumn(gold)) {
        footer.requireNumber(MetricNames.GOLD, gold);
      }
      if (footer.rowCount() == 0) {
        throw new Rejected("golden subset " + event.goldenSubset().uri() + " has no rows", null);
      }
      return footer;
    } catch (IOException e) {
      throw new Rejected(e.getMessage(), e);
    }
  }

  private void verify(String field, ArtifactRef ref) throws Rejected {
    try {
      storage.verify(ref.uri(), ref.sha256());
    } catch (IOException e) {
      throw new Rejected(field + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      throw new Rejected(field + ": cannot read " + ref.uri() + ": " + e.getMessage(), e);
    }
  }
}
