package io.evalfleet.dispatcher.preflight;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.failure.FailureKind;
import io.evalfleet.common.failure.Failures;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetFile;
import io.evalfleet.common.task.SubsetLayout;
import io.evalfleet.common.task.Task;
import java.io.IOException;

/**
 * Checks a staged event before any job is published: the artifact, tokenizer and golden subset
 * exist and have their promised digests, and the subset has the columns its task's {@link
 * io.evalfleet.common.task.TaskSpec} reads. Blocking (it reads files): run it off the poll thread.
 */
public final class Preflight {
  private final Storage storage;

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
   * @throws IOException when storage cannot be reached: not the event's fault, so it is not rejected
   */
  public Checked check(StagedWeightEvent event) throws Rejected, IOException {
    verify("artifact", event.artifact());
    for (int i = 0; i < event.artifact().externalData().size(); i++) {
      verify("artifact.external_data[" + i + "]", event.artifact().externalData().get(i));
    }
    if (event.tokenizer() != null) {
      verify("tokenizer", event.tokenizer());
    }
    verify("golden_subset", new ArtifactRef(event.goldenSubset().uri(), event.goldenSubset().sha256()));
    GoldenSubsetFile footer;
    SubsetLayout layout;
    try {
      footer = GoldenSubsetFile.readFooter(storage, event.goldenSubset().uri());
      layout = event.task().spec().layout(footer, event.goldenSubset()::column, event.tokenizer() != null);
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

  /** What pre-flight learned: the subset's footer (for the shard plan) and its columns for the task. */
  public record Checked(GoldenSubsetFile footer, SubsetLayout layout) {}

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
