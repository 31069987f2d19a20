package io.evalfleet.dispatcher.preflight;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.Task;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetFile;
import io.evalfleet.common.subset.SubsetRoles;
import java.io.IOException;
import java.util.List;

/**
 * Checks a staged event before any job is published: the artifact, tokenizer and golden subset
 * exist and have their promised digests, and the subset has the columns the task needs. Returns
 * the subset's footer for shard planning. Blocking (it reads files): run it off the poll thread.
 */
public final class Preflight {
  private static final List<String> EMBEDDING_TEXT_ROLES = List.of(SubsetRoles.TEXT_A, SubsetRoles.TEXT_B);

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
      if (event.maxSeqLen() == null) {
        throw new Rejected("task causal-lm needs max_seq_len (the model's context length in tokens)", null);
      }
      if (event.maxSeqLen() < 2) {
        throw new Rejected("max_seq_len " + event.maxSeqLen() + " leaves no token to score with context", null);
      }
      if (event.stride() != null && event.stride() >= event.maxSeqLen()) {
        throw new Rejected("stride " + event.stride() + " must be smaller than max_seq_len " + event.maxSeqLen()
            + " so that every token is scored with context", null);
      }
    }
    if (event.task() == Task.EMBEDDING && event.tokenizer() == null) {
      throw new Rejected("task embedding needs a tokenizer (tokenizer.uri and tokenizer.sha256)", null);
    }
    verify("artifact", event.artifact());
    for (int i = 0; i < event.artifact().externalData().size(); i++) {
      verify("artifact.external_data[" + i + "]", event.artifact().externalData().get(i));
    }
    if (event.tokenizer() != null) {
      verify("tokenizer", event.tokenizer());
    }
    verify("golden_subset", new ArtifactRef(event.goldenSubset().uri(), event.goldenSubset().sha256()));
    try {
      GoldenSubsetFile footer = GoldenSubsetFile.readFooter(storage, event.goldenSubset().uri());
      if (event.task() == Task.EMBEDDING) {
        for (String role : EMBEDDING_TEXT_ROLES) {
          footer.requireText(role, event.goldenSubset().column(role));
        }
        String gold = event.goldenSubset().column(SubsetRoles.GOLD);
        if (footer.hasColumn(gold)) {
          footer.requireNumber(SubsetRoles.GOLD, gold);
        }
      } else {
        checkCausalLmColumns(event, footer);
      }
      if (footer.rowCount() == 0) {
        throw new Rejected("golden subset " + event.goldenSubset().uri() + " has no rows", null);
      }
      return footer;
    } catch (IOException e) {
      throw new Rejected(e.getMessage(), e);
    }
  }

  private static void checkCausalLmColumns(StagedWeightEvent event, GoldenSubsetFile footer) throws IOException, Rejected {
    boolean pretokenized = footer.causalLmRowsArePretokenized(event.goldenSubset().column(SubsetRoles.INPUT_IDS),
        event.goldenSubset().column(SubsetRoles.TEXT));
    if (!pretokenized && event.tokenizer() == null) {
      throw new Rejected("golden subset " + footer.uri() + " holds text, so task causal-lm needs the model's tokenizer"
          + " (tokenizer.uri and tokenizer.sha256)", null);
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
