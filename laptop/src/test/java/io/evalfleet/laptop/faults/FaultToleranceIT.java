package io.evalfleet.laptop.faults;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.laptop.bench.SequentialFleetBench;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills and restarts real processes of the packaged fleet in the middle of runs: whatever dies,
 * every staged event ends with exactly one flag, the verdicts are those of an undisturbed run (the
 * first version staged of each model pinned, WARN; the identical later ones GREEN against it), and
 * the test prints how much work was done twice.
 */
class FaultToleranceIT {
  private static final Pattern JOB_STARTED = Pattern.compile("scoring job (\\S+) attempt");
  private static final Pattern RUN_STARTED =
      Pattern.compile("run (run-\\S+) for \\S+ \\S+: \\d+ rows");
  private static final Duration FLAGS_WITHIN = Duration.ofMinutes(4);
  private static final int MAX_SPOT_KILLS = 20;
  private static final Pattern SCORED_ALONE =
      Pattern.compile("scoring job (\\S+) alone in process");
  private static final Pattern ANSWERED_ALONE = Pattern.compile("job (\\S+) scored alone answered");

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

      assertUndisturbedVerdicts(events, fleet.awaitExactlyOneFlagEach(events, FLAGS_WITHIN));
      Set<String> startedByDoomed = new HashSet<>(doomed.logMatches(JOB_STARTED));
      List<ShardResult> results = fleet.results();
      Set<String> answeredByDoomed =
          results.stream()
              .filter(r -> r.workerId().equals("worker-a"))
              .map(ShardResult::jobId)
              .collect(Collectors.toSet());
      Set<String> redelivered = new HashSet<>(startedByDoomed);
      redelivered.removeAll(answeredByDoomed);
      assertThat(redelivered)
          .as("jobs the killed worker had started and never answered")
          .isNotEmpty();
      Set<String> answeredBySurvivor =
          results.stream()
              .filter(r -> r.workerId().equals("worker-b"))
              .map(ShardResult::jobId)
              .collect(Collectors.toSet());
      assertThat(answeredBySurvivor)
          .as("the survivor scored every job the killed worker left")
          .containsAll(redelivered);
      System.out.printf(
          "kill -9 worker mid-shard: %d job(s) redelivered to the survivor (%s); %d results for %d jobs%n",
          redelivered.size(), redelivered, results.size(), distinctJobs(results));
      assertStoppedCleanly(survivor);
    }
  }

  @Test
  void twoDispatchersShareTheRunsAndTheSurvivorOfAKillFinishesThemWithoutRescoring()
      throws Exception {
    try (FleetHarness fleet = FleetHarness.start(dir, 4)) {
      FleetProcess doomed = fleet.dispatcher("dispatcher-1");
      FleetProcess survivor = fleet.dispatcher("dispatcher-2");
      fleet.worker("worker-a", "384m");
      fleet.worker("worker-b", "384m");
      List<StagedWeightEvent> events = new ArrayList<>();
      for (String model : List.of("shared-a", "shared-b", "shared-c")) {
        events.addAll(fleet.stage(model, 2, 240));
      }

      doomed.awaitLog(RUN_STARTED, Duration.ofMinutes(2));
      FleetHarness.awaitCount(
          "shard results before the kill", () -> fleet.results().size(), 4, Duration.ofMinutes(2));
      doomed.kill();
      long publishedBeforeKill = fleet.jobsPublished();

      Map<String, DriftFlag> flags = fleet.awaitExactlyOneFlagEach(events, FLAGS_WITHIN);
      assertUndisturbedVerdicts(events, flags);
      List<ShardResult> results = fleet.results();
      long scoredTwice = results.size() - distinctJobs(results);
      long published = fleet.jobsPublished();
      System.out.printf(
          "two dispatchers, one kill -9ed mid-run: runs started by each %s; %d jobs published before the"
              + " kill, %d after; %d results for %d distinct jobs (%d scored twice)%n",
          List.of(doomed.logMatches(RUN_STARTED).size(), survivor.logMatches(RUN_STARTED).size()),
          publishedBeforeKill,
          published - publishedBeforeKill,
          results.size(),
          distinctJobs(results),
          scoredTwice);
      assertThat(scoredTwice)
          .as("shards scored again: at most those in flight at the kill (the limit is 32)")
          .isLessThanOrEqualTo(32);
      assertStoppedCleanly(survivor);
    }
  }

  @Test
  void tenRandomWorkerKillsDuringARunChangeNoVerdict() throws Exception {
    try (FleetHarness fleet = FleetHarness.start(dir, 4)) {
      fleet.dispatcher("dispatcher");
      // With the default worker.max-deliveries: a job cut short by several kills in a row is scored
      // alone and answered, never blamed.
      String[] settings = {};
      Map<String, FleetProcess> workers = new LinkedHashMap<>();
      for (String id : List.of("worker-a", "worker-b")) {
        workers.put(id, fleet.worker(id, id + "-0", "384m", List.of(), settings));
      }
      List<FleetProcess> incarnations = new ArrayList<>(workers.values());
      List<StagedWeightEvent> events = fleet.stage("kill-workers", 6, 240);
      workers.get("worker-a").awaitLog(JOB_STARTED, Duration.ofMinutes(2));

      Random random = new Random(20261202);
      Instant lastKill = null;
      List<String> killed = new ArrayList<>();
      for (int kill = 1; kill <= 10; kill++) {
        Thread.sleep(1_500 + random.nextInt(2_000));
        String id = random.nextBoolean() ? "worker-a" : "worker-b";
        workers.get(id).kill();
        lastKill = Instant.now();
        killed.add(id);
        // Restarted at once under the same id, as a crash-looping pod is: it takes its partitions
        // back.
        workers.put(id, fleet.worker(id, id + "-" + kill, "384m", List.of(), settings));
        incarnations.add(workers.get(id));
      }

      Map<String, DriftFlag> flags = fleet.awaitExactlyOneFlagEach(events, FLAGS_WITHIN);
      assertUndisturbedVerdicts(events, flags);
      Instant lastFlag =
          flags.values().stream().map(DriftFlag::decidedAt).max(Instant::compareTo).orElseThrow();
      assertThat(lastKill).as("the tenth kill came before the run was over").isBefore(lastFlag);
      List<ShardResult> results = fleet.results();
      long starts = 0;
      for (FleetProcess incarnation : incarnations) {
        starts += incarnation.logMatches(JOB_STARTED).size();
      }
      System.out.printf(
          "10 random kill -9s of workers (%s), each restarted under its id: %d job starts for %d distinct"
              + " jobs (%d cut short by a kill and started again); %d results (%d scored twice), %d jobs published%n",
          killed,
          starts,
          distinctJobs(results),
          starts - distinctJobs(results),
          results.size(),
          results.size() - distinctJobs(results),
          fleet.jobsPublished());
    }
  }

  /**
   * A crash-looping node, a spot fleet: workers die every few seconds of causes of their own, and
   * some jobs are cut short by several kills in a row. None of them is blamed. The threshold is 1
   * here, so that every job a kill cuts short is scored alone on its next delivery (with the
   * default of 3 that takes three kills of the same job, once in about 30 events): the old rule,
   * answering such a job as crashed, ends one run ERROR for each.
   */
  @Test
  void randomWorkerKillsEveryTwoToFiveSecondsBlameNoJobInThirtyEvents() throws Exception {
    long began = System.nanoTime();
    try (FleetHarness fleet = FleetHarness.start(dir, 4)) {
      fleet.dispatcher("dispatcher");
      String[] settings = {"-D", "worker.max-deliveries=1"};
      Map<String, FleetProcess> workers = new LinkedHashMap<>();
      for (String id : List.of("worker-a", "worker-b")) {
        workers.put(id, fleet.worker(id, id + "-0", "384m", List.of(), settings));
      }
      List<FleetProcess> incarnations = new ArrayList<>(workers.values());
      List<StagedWeightEvent> events = new ArrayList<>();
      for (String model : List.of("spot-a", "spot-b", "spot-c")) {
        events.addAll(fleet.stage(model, 10, 40));
      }
      workers.get("worker-a").awaitLog(JOB_STARTED, Duration.ofMinutes(2));

      Random random = new Random(20261206);
      List<ProcessHandle> leftByKilled = new ArrayList<>();
      int kills = 0;
      // Until every event is flagged, or for about a minute (20 kills), so that a slow machine ends
      // too.
      while (kills < MAX_SPOT_KILLS && fleet.flaggedEvents().size() < events.size()) {
        Thread.sleep(2_000 + random.nextInt(3_000));
        String id = random.nextBoolean() ? "worker-a" : "worker-b";
        FleetProcess doomed = workers.get(id);
        leftByKilled.addAll(doomed.descendants());
        doomed.kill();
        kills++;
        // Restarted at once under the same id, as a crash-looping pod is: it takes its partitions
        // back.
        workers.put(id, fleet.worker(id, id + "-" + kills, "384m", List.of(), settings));
        incarnations.add(workers.get(id));
      }

      Map<String, DriftFlag> flags = fleet.awaitExactlyOneFlagEach(events, FLAGS_WITHIN);
      long errors = flags.values().stream().filter(flag -> flag.flag() == Flag.ERROR).count();
      List<ShardResult> results = fleet.results();
      int starts = 0;
      int scoredAlone = 0;
      int answeredAlone = 0;
      for (FleetProcess incarnation : incarnations) {
        starts += incarnation.logMatches(JOB_STARTED).size();
        scoredAlone += incarnation.logMatches(SCORED_ALONE).size();
        answeredAlone += incarnation.logMatches(ANSWERED_ALONE).size();
      }
      org.awaitility.Awaitility.await("what killed workers had started ends with them")
          .atMost(Duration.ofSeconds(15))
          .until(() -> leftByKilled.stream().noneMatch(ProcessHandle::isAlive));
      System.out.printf(
          "%d random kill -9s of workers every 2-5 s during %d events (worker.max-deliveries=1): %d job"
              + " starts for %d distinct jobs; %d scorings alone (%d answered, the rest cut short by a kill), %d of them"
              + " running in a killed worker and ended with it; %d results, %d ERROR flags, %s flags by value; %d s%n",
          kills,
          events.size(),
          starts,
          distinctJobs(results),
          scoredAlone,
          answeredAlone,
          leftByKilled.size(),
          results.size(),
          errors,
          flags.values().stream()
              .collect(
                  Collectors.groupingBy(
                      DriftFlag::flag, java.util.TreeMap::new, Collectors.counting())),
          Duration.ofNanos(System.nanoTime() - began).toSeconds());
      assertThat(errors)
          .as(
              "ERROR flags: %s",
              flags.values().stream()
                  .filter(f -> f.flag() == Flag.ERROR)
                  .map(DriftFlag::reasons)
                  .toList())
          .isZero();
      assertUndisturbedVerdicts(events, flags);
      assertThat(results).as("no job answered as a worker-killer").noneMatch(r -> r.failed());
      assertThat(scoredAlone)
          .as("jobs cut short by a kill were scored alone on their next delivery")
          .isPositive();
    }
  }

  @Test
  void brokerKilledAndRestartedOnItsDataLosesNoEventAndDuplicatesNoFlag() throws Exception {
    try (FleetHarness fleet = FleetHarness.start(dir, 4)) {
      FleetProcess dispatcher = fleet.dispatcher("dispatcher");
      FleetProcess a = fleet.worker("worker-a", "384m");
      FleetProcess b = fleet.worker("worker-b", "384m");
      List<StagedWeightEvent> events = fleet.stage("restart-broker", 3, 240);

      FleetHarness.awaitCount(
          "shards scored before the broker dies",
          () -> fleet.results().size(),
          2,
          Duration.ofMinutes(2));
      fleet.broker.kill();
      Thread.sleep(5_000); // the outage itself: clients must ride out five seconds without a broker
      fleet.broker.restart();

      assertUndisturbedVerdicts(events, fleet.awaitExactlyOneFlagEach(events, FLAGS_WITHIN));
      List<ShardResult> results = fleet.results();
      System.out.printf(
          "broker kill -9ed for 5 s mid-run: %d results for %d distinct jobs (%d scored twice)%n",
          results.size(), distinctJobs(results), results.size() - distinctJobs(results));
      assertThat(List.of(dispatcher, a, b))
          .as("every role rode out the outage")
          .allMatch(FleetProcess::alive);
      assertStoppedCleanly(a);
      assertStoppedCleanly(b);
      assertStoppedCleanly(dispatcher);
    }
  }

  @Test
  void aJobThatKillsEveryWorkerItReachesEndsItsRunInOneErrorNamingTheShard() throws Exception {
    try (FleetHarness fleet = FleetHarness.start(dir, 4)) {
      // Rows go out in file order (sequential decisions off), so the rows that kill fill the first
      // shard and no other: a run that ends ERROR does not yet cancel its jobs left in flight, and
      // in
      // the seeded order every shard would hold rows that kill.
      Path fixedOrder = dir.resolve("policy-fixed-order.json");
      Files.writeString(fixedOrder, SequentialFleetBench.bundledPolicy(false));
      fleet.dispatcher("dispatcher", "-D", "verdict.policy=" + fixedOrder);
      // Rows 0-39 hold texts far larger than a worker's heap; the worker exits on running out of
      // memory, as a container killed for its memory does.
      SubsetRef subset =
          fleet.subset(
              "poison", 80, row -> row < 40 ? "x".repeat(20 << 20) : "a small text " + row);
      List<String> jvm = List.of("-XX:+ExitOnOutOfMemoryError");
      FleetProcess worker = fleet.worker("worker-p", "worker-p-0", "256m", jvm);
      StagedWeightEvent event = fleet.stage("poison", "v1", subset);

      List<FleetProcess> incarnations = new ArrayList<>(List.of(worker));
      // Restarted whenever it dies, as a pod is, until the run is decided.
      while (!fleet.flagged(event.eventId()) && incarnations.size() < 8) {
        if (!worker.alive()) {
          worker = fleet.worker("worker-p", "worker-p-" + incarnations.size(), "256m", jvm);
          incarnations.add(worker);
        }
        Thread.sleep(500);
      }
      DriftFlag decided =
          fleet.awaitExactlyOneFlagEach(List.of(event), Duration.ofMinutes(2)).get(event.eventId());
      assertThat(decided.flag()).isEqualTo(Flag.ERROR);
      Matcher shard =
          Pattern.compile("shard \\d+ \\(rows (\\d+)-(\\d+)\\)").matcher(decided.reasons().get(0));
      assertThat(shard.find()).as("the reason names the shard: %s", decided.reasons()).isTrue();
      assertThat(Integer.parseInt(shard.group(1)))
          .as("the shard named holds the rows that kill")
          .isLessThan(40);
      // Three stopped workers make the job a suspect; the evidence is its scoring alone dying of
      // it.
      assertThat(decided.reasons().get(0))
          .contains("it stopped the workers that took it")
          .contains("delivered to 3 workers that stopped without answering it")
          .contains(
              "scored alone in a process of its own, it stopped that process too: ran out of memory (-Xmx256m)");
      int scoredAlone = 0;
      for (FleetProcess incarnation : incarnations) {
        scoredAlone += incarnation.logMatches(SCORED_ALONE).size();
      }
      System.out.printf(
          "a job that kills its workers: %d worker processes, %d scoring(s) alone, flag %s: %s%n",
          incarnations.size(), scoredAlone, decided.flag(), decided.reasons().get(0));
      assertThat(incarnations)
          .as("worker processes: three killed by the job, one that scored it alone and answered")
          .hasSize(4);
      assertThat(scoredAlone).isEqualTo(1);
      assertThat(worker.alive())
          .as("the worker that scored it alone outlived its evidence")
          .isTrue();
    }
  }

  /**
   * Per model, the first version staged is pinned (WARN) and the identical later ones are GREEN
   * against it.
   */
  static void assertUndisturbedVerdicts(
      List<StagedWeightEvent> events, Map<String, DriftFlag> flags) {
    Map<String, String> first = new LinkedHashMap<>();
    for (StagedWeightEvent event : events) {
      first.putIfAbsent(event.model(), event.version());
    }
    for (StagedWeightEvent event : events) {
      DriftFlag flag = flags.get(event.eventId());
      boolean isFirst = first.get(event.model()).equals(event.version());
      assertThat(flag.flag())
          .as("%s %s: %s", event.model(), event.version(), flag.reasons())
          .isEqualTo(isFirst ? Flag.WARN : Flag.GREEN);
      assertThat(flag.baselineVersion()).isEqualTo(isFirst ? null : first.get(event.model()));
      assertThat(flag.coverage().rowsScored()).isEqualTo(flag.coverage().rowsTotal());
    }
  }

  /**
   * SIGTERM: the role drains, says so, and exits as the JVM does on SIGTERM once its hooks are
   * done.
   */
  private static void assertStoppedCleanly(FleetProcess role) throws Exception {
    assertThat(role.stop(Duration.ofSeconds(60)))
        .as("%s exit status after SIGTERM", role.name())
        .isEqualTo(FleetProcess.EXIT_ON_SIGTERM);
    assertThat(role.messages())
        .as("%s's log", role.name())
        .containsPattern("(worker|dispatcher) \\S* ?stopped");
  }

  static long distinctJobs(List<ShardResult> results) {
    return results.stream().map(ShardResult::jobId).distinct().count();
  }
}
