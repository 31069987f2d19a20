package io.evalfleet.common.archive;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.storage.Storage;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The scores of some rows only (a sequential run stopped early), archived with their rows. */
class PartialScoresTest {
  @TempDir Path dir;

  static final EvaluationArchive.Provenance PROVENANCE =
      new EvaluationArchive.Provenance(List.of(), List.of("cpu"), List.of(), null, "run-1");

  @Test
  void eachValueComesBackAtItsRowAndTheRowsNotScoredAreNaN() throws Exception {
    EvaluationArchive archive =
        new EvaluationArchive(Storage.withDefaults(), dir.toUri().toString());
    ScoreKey key = ScoreKey.of(ScoreKeyTest.event("e", 64));

    String uri =
        archive.writeScores(
            key,
            Map.of("nll_sum", new double[] {7.0, 3.0, 5.0}),
            new long[] {7, 3, 5},
            Map.of(),
            PROVENANCE);

    assertThat(uri).endsWith(".rows-3.parquet");
    double[] nll = archive.readScores(uri).get("nll_sum");
    assertThat(nll).hasSize(8);
    assertThat(nll[3]).isEqualTo(3.0);
    assertThat(nll[5]).isEqualTo(5.0);
    assertThat(nll[7]).isEqualTo(7.0);
    assertThat(nll[0]).isNaN();
    assertThat(nll[6]).isNaN();
    assertThat(archive.scores(key)).as("never reused as a whole evaluation's").isEmpty();
  }

  @Test
  void scoresOfEveryRowReadAsBefore() throws Exception {
    EvaluationArchive archive =
        new EvaluationArchive(Storage.withDefaults(), dir.toUri().toString());
    ScoreKey key = ScoreKey.of(ScoreKeyTest.event("e", 64));

    archive.writeScores(key, Map.of("nll_sum", new double[] {1, 2, 3}), PROVENANCE);

    assertThat(archive.scores(key).orElseThrow().rows().get("nll_sum"))
        .containsExactly(1.0, 2.0, 3.0);
  }
}
