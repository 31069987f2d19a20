package io.evalfleet.dispatcher.run;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.JsonAutoDetect.Visibility;
import io.evalfleet.common.kafka.JsonSerde;
import io.evalfleet.dispatcher.baseline.BaselineRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.common.serialization.Serde;

/**
 * The runs of a model staged while it had no production baseline, in staging order, kept in the
 * {@code first-versions} store under the model's name. The first of them that is evaluated in full
 * becomes the model's first production baseline, and every later one is compared with it, whatever
 * order their shards finish in: a run that finishes before the first waits for it.
 */
@JsonAutoDetect(
    fieldVisibility = Visibility.ANY,
    getterVisibility = Visibility.NONE,
    isGetterVisibility = Visibility.NONE,
    setterVisibility = Visibility.NONE)
public final class FirstVersions {
  public static final Serde<FirstVersions> SERDE = JsonSerde.of(FirstVersions.class);

  /** Run ids in staging order; a run leaves when it is decided. */
  private final List<String> runs = new ArrayList<>();

  /** The baseline the first of them became, once decided. */
  private BaselineRecord pinned;

  public void staged(String runId) {
    runs.add(runId);
  }

  public void decided(String runId) {
    runs.remove(runId);
  }

  /** The earliest staged run still undecided: the one that becomes the baseline unless it fails. */
  public Optional<String> head() {
    return runs.stream().findFirst();
  }

  public List<String> runs() {
    return List.copyOf(runs);
  }

  public boolean contains(String runId) {
    return runs.contains(runId);
  }

  public Optional<BaselineRecord> pinned() {
    return Optional.ofNullable(pinned);
  }

  public void pinned(BaselineRecord baseline) {
    this.pinned = baseline;
  }

  public boolean isEmpty() {
    return runs.isEmpty();
  }
}
