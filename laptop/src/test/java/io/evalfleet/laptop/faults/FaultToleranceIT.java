package io.evalfleet.laptop.faults;

import static org.awaitility.Awaitility.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.StagedWeightEvent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills and restarts real processes of the packaged fleet in the middle of runs: whatever dies,
 * every staged event ends with exactly one flag, and the scores are those of an undisturbed run
 * (one WARN for the version pinned as baseline, GREEN for the identical others).
 */
class FaultToleranceIT {
  private static final Pattern JOB_STARTED = Pattern.compile("scoring job (\\S+) attempt");
  private static final Duration FLAGS_WITHIN = Duration.ofMinutes(4);

  @TempDir Path dir;

  @Test
  void workerKilledMidShardHasItsJobsScoredByAnotherAndEveryEventFlaggedOnce() throws Exception {
    try (FleetHarness fleet = FleetHarness.start(dir, 4)) {
      fleet.dispatcher("dispatcher");
      FleetProcess doomed = fleet.worker("worker-a", "384m");
      FleetProcess survivor = fleet.worker("worker-b", "384m");
      List<StagedWeightEvent> events = fleet.stage("kill-worker", 3, 240);

      doomed.awaitLog(JOB_STARTED, Duration.ofMinutes(2));
      doomed.kill();

      assertUndisturbedVerdicts(fleet.awaitExactlyOneFlagEach(events, FLAGS_WITHIN).values());
      Set<String> startedByDoomed = new HashSet<>(doomed.logMatches(JOB_STARTED));
      List<ShardResult> results = fleet.results();
      Set<String> answeredByDoomed = results.stream().filter(r -> r.workerId().equals("worker-a"))
          .map(ShardResult::jobId).collect(Collectors.toSet());
      Set<String> redelivered = new HashSet<>(startedByDoomed);
      redelivered.removeAll(answeredByDoomed);
      assertThat(redelivered).as("jobs the killed worker had started and never answered").isNotEmpty();
      Set<String> answeredBySurvivor = results.stream().filter(r -> r.workerId().equals("worker-b"))
          .map(ShardResult::jobId).collect(Collectors.toSet());
      assertThat(answeredBySurvivor).as("the survivor scored every job the killed worker left").containsAll(redelivered);
      System.out.printf("kill -9 worker mid-shard: %d job(s) redelivered to the survivor (%s); %d results for %d jobs%n",
          redelivered.size(), redelivered, results.size(), distinctJobs(results));
      assertStoppedCleanly(survivor);
    }
  }

  @Test
  void dispatcherKilledMidRunIsReplacedAndEveryEventFlaggedOnce() throws Exception {
    try (FleetHarness fleet = FleetHarness.start(dir, 4)) {
      FleetProcess first = fleet.dispatcher("dispatcher-1");
      fleet.worker("worker-a", "384m");
      fleet.worker("worker-b", "384m");
      List<StagedWeightEvent> events = fleet.stage("kill-dispatcher", 3, 240);

      await("shard results checkpointed before the kill").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(50))
          .until(() -> checkpoints(dir) >= 2);
      first.kill();
      long publishedBeforeKill = fleet.jobsPublished();
      FleetProcess second = fleet.dispatcher("dispatcher-2");

      assertUndisturbedVerdicts(fleet.awaitExactlyOneFlagEach(events, FLAGS_WITHIN).values());
      List<ShardResult> results = fleet.results();
      long published = fleet.jobsPublished();
      long resent = published - publishedBeforeKill;
      System.out.printf("kill -9 dispatcher mid-run: %d jobs published before the kill, %d re-sent by the successor,"
          + " %d shards taken from its predecessor's checkpoints; %d results for %d distinct jobs%n", publishedBeforeKill,
          resent, distinctJobs(results) - resent, results.size(), distinctJobs(results));
      assertThat(published).as("the successor re-sent the undecided runs' jobs").isGreaterThan(publishedBeforeKill);
      assertThat(published - publishedBeforeKill).as("jobs re-sent: those not checkpointed before the kill")
          .isLessThan(distinctJobs(results));
      assertStoppedCleanly(second);
    }
  }

  @Test
  void brokerStoppedAndRestartedMidRunLosesNoEventAndDuplicatesNoFlag() throws Exception {
    try (FleetHarness fleet = FleetHarness.start(dir, 4)) {
      FleetProcess dispatcher = fleet.dispatcher("dispatcher");
      FleetProcess a = fleet.worker("worker-a", "384m");
      FleetProcess b = fleet.worker("worker-b", "384m");
      List<StagedWeightEvent> events = fleet.stage("restart-broker", 3, 240);

      await("shards scored before the broker stops").atMost(Duration.ofMinutes(2))
          .until(() -> fleet.results().size() >= 2);
      assertThat(fleet.broker.stop()).as("broker exit status after SIGTERM").isIn(0, FleetProcess.EXIT_ON_SIGTERM);
      Thread.sleep(5_000); // the outage itself: clients must ride out five seconds without a broker
      fleet.broker.restart();

      assertUndisturbedVerdicts(fleet.awaitExactlyOneFlagEach(events, FLAGS_WITHIN).values());
      List<ShardResult> results = fleet.results();
      System.out.printf("broker stopped for 5 s mid-run: %d results for %d distinct jobs (%d scored twice)%n",
          results.size(), distinctJobs(results), results.size() - distinctJobs(results));
      assertThat(List.of(dispatcher, a, b)).as("every role rode out the outage").allMatch(FleetProcess::alive);
      assertStoppedCleanly(a);
      assertStoppedCleanly(b);
      assertStoppedCleanly(dispatcher);
    }
  }

  /** The same model staged three times: the first decided is pinned (WARN), the others equal it (GREEN). */
  private static void assertUndisturbedVerdicts(Collection<DriftFlag> flags) {
    Map<Flag, Long> byFlag = flags.stream().collect(Collectors.groupingBy(DriftFlag::flag, Collectors.counting()));
    assertThat(byFlag).as("flags " + flags.stream().map(f -> f.flag() + ": " + f.reasons()).toList())
        .isEqualTo(Map.of(Flag.WARN, 1L, Flag.GREEN, (long) flags.size() - 1));
    for (DriftFlag flag : flags) {
      assertThat(flag.coverage().rowsScored()).isEqualTo(flag.coverage().rowsTotal());
    }
  }

  /** SIGTERM: the role drains, says so, and exits as the JVM does on SIGTERM once its hooks are done. */
  private static void assertStoppedCleanly(FleetProcess role) throws Exception {
    assertThat(role.stop(Duration.ofSeconds(60))).as("%s exit status after SIGTERM", role.name())
        .isEqualTo(FleetProcess.EXIT_ON_SIGTERM);
    assertThat(role.messages()).as("%s's log", role.name()).containsPattern("(worker|dispatcher) \\S* ?stopped");
  }

  /** Shard results the dispatcher has checkpointed in its archive so far. */
  private static long checkpoints(Path dir) throws java.io.IOException {
    Path root = dir.resolve("archive").resolve("checkpoints");
    if (!java.nio.file.Files.exists(root)) {
      return 0;
    }
    try (var files = java.nio.file.Files.walk(root)) {
      return files.filter(p -> p.getFileName().toString().matches("\\d+\\.json")).count();
    }
  }

  private static long distinctJobs(List<ShardResult> results) {
    return results.stream().map(ShardResult::jobId).distinct().count();
  }
}
