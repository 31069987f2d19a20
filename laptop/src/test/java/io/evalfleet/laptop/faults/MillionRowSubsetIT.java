package io.evalfleet.laptop.faults;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.task.Task;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A golden subset of 1,000,000 rows end to end on the packaged fleet, with a dispatcher of 256 MiB
 * heap: every record carries one shard's rows, the baseline points at its archived scores, and the
 * statistics run on the full columns. The model is the tiny byte-embedding fixture, so that scoring
 * a million pairs fits in the test's time.
 */
class MillionRowSubsetIT {
  private static final int ROWS = 1_000_000;
  private static final Pattern DECIDED =
      Pattern.compile("(decided \\w+ in \\d+ ms over \\d+ rows)");
  private static final Pattern PEAK_HEAP =
      Pattern.compile("peak heap (\\d+) MiB of (\\d+) MiB max");

  @TempDir Path dir;

  @Test
  void aMillionRowSubsetIsScoredAndComparedWithADispatcherOf256MiB() throws Exception {
    try (FleetHarness fleet = FleetHarness.start(dir, 4)) {
      FleetProcess dispatcher =
          fleet.dispatcherWithHeap(
              "dispatcher",
              "256m",
              "-D",
              "dispatcher.shard-rows=25000",
              "-D",
              "dispatcher.reuse-scores=false",
              "-D",
              "dispatcher.run-deadline=PT20M");
      fleet.worker("worker-a", "512m", "-D", "worker.batch-size=256");
      fleet.worker("worker-b", "512m", "-D", "worker.batch-size=256");
      SubsetRef subset =
          fleet.subset(
              "million",
              ROWS,
              row -> "pair " + (row % 9973),
              row -> "pair " + (row % 9967) + " of " + (row % 101));

      Path fixtures = Path.of("..", "fixtures").toAbsolutePath().normalize();
      ArtifactRef model = ref(fixtures.resolve("embedding/bytes-no-token-types.onnx"));
      ArtifactRef tokenizer = ref(fixtures.resolve("causal-lm/tokenizer.json"));
      List<StagedWeightEvent> events =
          List.of(event("v1", model, tokenizer, subset), event("v2", model, tokenizer, subset));
      try (var submitter = new io.evalfleet.cli.Submitter(fleet.config)) {
        for (StagedWeightEvent event : events) {
          submitter.submit(event);
        }
      }

      Map<String, DriftFlag> flags = fleet.awaitExactlyOneFlagEach(events, Duration.ofMinutes(12));
      DriftFlag first = flags.get(events.get(0).eventId());
      DriftFlag second = flags.get(events.get(1).eventId());
      assertThat(first.flag()).as("%s", first.reasons()).isEqualTo(Flag.WARN);
      assertThat(first.reasons().get(0)).contains("is now pinned as its production baseline");
      // Ungraded pairs give mean cosine only, which gates nothing: WARN, with the comparison made.
      assertThat(second.flag()).as("%s", second.reasons()).isEqualTo(Flag.WARN);
      assertThat(second.baselineVersion()).isEqualTo("v1");
      assertThat(second.metrics().get("mean_cosine").status()).isEqualTo(Flag.GREEN);
      assertThat(second.metrics().get("mean_cosine").relativeDelta()).isZero();
      assertThat(second.coverage().rowsScored()).isEqualTo(ROWS);
      assertThat(second.coverage().shardsTotal())
          .as("jobs of at most 25,000 rows")
          .isGreaterThanOrEqualTo(40);

      List<String> decisions = dispatcher.logMatches(DECIDED);
      assertThat(dispatcher.stop(Duration.ofSeconds(60))).isEqualTo(FleetProcess.EXIT_ON_SIGTERM);
      Matcher heap = PEAK_HEAP.matcher(dispatcher.messages());
      assertThat(heap.find()).as("the dispatcher reports its peak heap when it stops").isTrue();
      System.out.printf(
          "1,000,000-row subset, 2 versions of %d jobs each: decisions %s; dispatcher peak heap %s MiB"
              + " of %s MiB; %d results for %d jobs%n",
          second.coverage().shardsTotal(),
          decisions,
          heap.group(1),
          heap.group(2),
          fleet.results().size(),
          FaultToleranceIT.distinctJobs(fleet.results()));
      // The bound is the heap itself: the dispatcher scored, decided and stopped within -Xmx256m
      // (the
      // printed peak is the sum of the heap pools' peaks, an upper bound that G1 lets approach the
      // maximum).
    }
  }

  private static StagedWeightEvent event(
      String version, ArtifactRef model, ArtifactRef tokenizer, SubsetRef subset) {
    return StagedWeightEvent.builder()
        .eventId("million-" + version)
        .model("million")
        .version(version)
        .task(Task.EMBEDDING)
        .artifact(model)
        .tokenizer(tokenizer)
        .goldenSubset(subset)
        .createdAt(Instant.now())
        .build();
  }

  private static ArtifactRef ref(Path file) throws Exception {
    String uri = file.toUri().toString();
    return new ArtifactRef(uri, Storage.withDefaults().sha256(uri));
  }
}
