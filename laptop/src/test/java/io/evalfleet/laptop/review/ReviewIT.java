package io.evalfleet.laptop.review;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.evalfleet.cli.FlagWatcher;
import io.evalfleet.cli.Submitter;
import io.evalfleet.cli.progress.ProgressDisplay;
import io.evalfleet.cli.progress.ProgressWatcher;
import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.ReviewRef;
import io.evalfleet.common.contract.RunProgress;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.kafka.DeadLetters;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.metrics.FleetMeter;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.task.Task;
import io.evalfleet.laptop.demo.DemoAssets;
import io.evalfleet.laptop.embedded.LocalFleet;
import io.evalfleet.notifier.NotifierRole;
import io.evalfleet.notifier.ReviewPublisher;
import io.evalfleet.notifier.report.Charts;
import io.evalfleet.notifier.report.HistoryTable;
import io.evalfleet.notifier.report.HtmlReport;
import io.evalfleet.notifier.review.ReviewMarkdown;
import io.evalfleet.notifier.testing.FakeReviewServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * What reviewers read, end to end on a real fleet with its notifier: the one comment per model and
 * pull request on a GitHub-compatible server, the signed webhook, a webhook that stays down, the
 * HTML report in a real headless browser, the history and the progress of a run.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReviewIT {
  static final Duration WAIT = Duration.ofMinutes(3);
  static final String TOKEN = "ghp-test-token";
  static final String THREAD = "github acme/models#7";
  static final ReviewRef PR = new ReviewRef(ReviewRef.Provider.GITHUB, "acme/models", 7, null);

  @TempDir static Path dir;
  static FakeReviewServer server;
  static LocalFleet fleet;
  static FlagWatcher flags;
  static Submitter submitter;
  static SubsetRef subset;
  static DemoAssets.ModelFiles fp32;
  static DemoAssets.ModelFiles int8;
  static final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @BeforeAll
  static void startFleet() throws Exception {
    server = new FakeReviewServer(TOKEN);
    DemoAssets assets = new DemoAssets(dir);
    fp32 = assets.model(DemoAssets.Model.MINILM_FP32);
    int8 = assets.model(DemoAssets.Model.MINILM_INT8);
    subset = assets.goldenSubset();
    Path token = Files.writeString(dir.resolve("github-token"), TOKEN + "\n");
    Path secret = Files.writeString(dir.resolve("webhook-secret"), "s3cret");
    FleetConfig config =
        FleetConfig.defaults()
            .with(
                Map.ofEntries(
                    Map.entry(FleetConfig.SHARD_ROWS.key(), "16"),
                    Map.entry(
                        FleetConfig.REUSE_SCORES.key(),
                        "false"), // every run is scored, so that it has progress to show
                    Map.entry(
                        FleetConfig.ARCHIVE_ROOT.key(), dir.resolve("archive").toUri().toString()),
                    Map.entry(FleetConfig.INTRA_OP_THREADS.key(), "1"),
                    Map.entry(FleetConfig.MAX_IN_FLIGHT_PER_RUN.key(), "2"),
                    Map.entry(FleetConfig.GITHUB_API.key(), server.github().toString()),
                    Map.entry(FleetConfig.GITHUB_TOKEN_FILE.key(), token.toString()),
                    Map.entry(FleetConfig.WEBHOOK_URL.key(), server.webhook().toString()),
                    Map.entry(FleetConfig.WEBHOOK_SECRET_FILE.key(), secret.toString()),
                    Map.entry(
                        FleetConfig.REPORT_BASE_URL.key(),
                        "https://reports.example.org/evalfleet/"),
                    Map.entry(FleetConfig.DELIVERY_ATTEMPTS.key(), "3"),
                    Map.entry(FleetConfig.DELIVERY_BACKOFF.key(), "PT0.2S")));
    fleet = LocalFleet.start(config, 2, dir.resolve("cache"), registry, true);
    flags = new FlagWatcher(fleet.config(), true);
    submitter = new Submitter(fleet.config());
  }

  @AfterAll
  static void stopFleet() throws Exception {
    if (submitter != null) {
      submitter.close();
    }
    if (flags != null) {
      flags.close();
    }
    if (fleet != null) {
      fleet.close();
    }
    if (server != null) {
      server.close();
    }
  }

  static StagedWeightEvent event(
      String model, String version, DemoAssets.ModelFiles files, ReviewRef review) {
    return StagedWeightEvent.builder()
        .eventId(model + "-" + version + "-" + UUID.randomUUID())
        .model(model)
        .version(version)
        .task(Task.EMBEDDING)
        .artifact(files.onnx())
        .tokenizer(files.tokenizer())
        .goldenSubset(subset)
        .quantizationBits(files == int8 ? 8 : 32)
        .commit("c0ffee" + version)
        .createdAt(Instant.now())
        .review(review)
        .build();
  }

  static DriftFlag stage(StagedWeightEvent event) throws Exception {
    submitter.submit(event);
    return flags.await(event.eventId(), WAIT);
  }

  /** Waits until the model's one comment in the thread is the review of {@code flag}'s run. */
  static FakeReviewServer.Comment awaitComment(String thread, DriftFlag flag) {
    await().atMost(WAIT).until(() -> server.commentsContaining(thread, flag.runId()).size() == 1);
    List<FakeReviewServer.Comment> marked =
        server.commentsContaining(thread, ReviewMarkdown.marker(flag.model()));
    assertThat(marked).as("comments of %s in %s", flag.model(), thread).hasSize(1);
    return marked.get(0);
  }

  @Test
  @Order(1)
  void oneCommentPerModelAndPullRequestAcrossRedeliveriesADispatcherRestartAndARerun()
      throws Exception {
    DriftFlag v1 = stage(event("reviewed", "fp32", fp32, PR));
    FakeReviewServer.Comment first = awaitComment(THREAD, v1);
    assertThat(first.body()).startsWith(ReviewMarkdown.marker("reviewed")).contains("WARN");

    DriftFlag v2 = stage(event("reviewed", "int8", int8, PR));
    FakeReviewServer.Comment second = awaitComment(THREAD, v2);
    assertThat(second.id()).isEqualTo(first.id());
    assertThat(second.body())
        .contains(
            "`int8` vs `fp32`",
            "| spearman |",
            "#### Rows that moved most",
            "](https://reports.example.org/evalfleet/reports/reviewed/int8/delta-histogram.png)",
            "[Full report](https://reports.example.org/evalfleet/reports/reviewed/int8/report.html)");

    // A redelivery of every flag: the notifier restarted with its group's offsets gone.
    long patchesBefore = patches();
    fleet.restartNotifier(true);
    await().atMost(WAIT).until(() -> patches() >= patchesBefore + 2);
    awaitComment(THREAD, v2);

    // The dispatcher restarted, then a new version.
    fleet.restartDispatcher();
    DriftFlag v3 = stage(event("reviewed", "int8-again", int8, PR));
    assertThat(awaitComment(THREAD, v3).id()).isEqualTo(first.id());

    // The same version staged again (a re-run).
    DriftFlag rerun = stage(event("reviewed", "int8-again", int8, PR));
    assertThat(rerun.runId()).isNotEqualTo(v3.runId());
    assertThat(awaitComment(THREAD, rerun).id()).isEqualTo(first.id());

    // Another model on the same pull request has a comment of its own.
    DriftFlag other = stage(event("reviewed-other", "fp32", fp32, PR));
    awaitComment(THREAD, other);
    assertThat(server.comments(THREAD)).hasSize(2);

    // Every flag also reached the webhook, signed, the redelivered ones again under the same
    // delivery id.
    await()
        .atMost(WAIT)
        .until(
            () -> webhookDeliveries(rerun.runId()) >= 1 && webhookDeliveries(other.runId()) >= 1);
    assertThat(webhookDeliveries(v1.runId())).isEqualTo(2);
    server
        .received("/hook")
        .forEach(
            request ->
                assertThat(request.headers().get("x-evalfleet-signature-256"))
                    .isEqualTo(
                        io.evalfleet.notifier.delivery.WebhookTarget.signature(
                            "s3cret".getBytes(StandardCharsets.UTF_8),
                            request.body().getBytes(StandardCharsets.UTF_8))));
    var github = server.received("/github");
    System.out.printf(
        "review: 5 flags of 2 models on one pull request (and 2 of them redelivered): %d comments; GitHub saw"
            + " %d GET, %d POST, %d PATCH; the webhook %d signed deliveries%n",
        server.comments(THREAD).size(),
        github.stream().filter(r -> r.method().equals("GET")).count(),
        github.stream().filter(r -> r.method().equals("POST")).count(),
        patches(),
        server.received("/hook").size());
  }

  @Test
  @Order(2)
  void aWebhookThatStaysDownEndsInDeadLettersWhileFlagsAndCommentsKeepFlowing() throws Exception {
    server.failAlways("/hook", 503);
    try {
      ReviewRef pr = new ReviewRef(ReviewRef.Provider.GITHUB, "acme/models", 8, null);
      DriftFlag a = stage(event("webhook-down", "fp32", fp32, pr));
      DriftFlag b = stage(event("webhook-down", "int8", int8, pr));
      assertThat(List.of(a.flag(), b.flag())).doesNotContain(Flag.ERROR, Flag.INCOMPLETE);
      awaitComment("github acme/models#8", b);
      List<ConsumerRecord<String, byte[]>> dead = new ArrayList<>();
      await()
          .atMost(WAIT)
          .until(
              () -> {
                dead.clear();
                dead.addAll(deadLetters("webhook-down"));
                return dead.size() == 2;
              });
      for (ConsumerRecord<String, byte[]> record : dead) {
        assertThat(header(record, NotifierRole.TARGET_HEADER)).isEqualTo("webhook");
        assertThat(header(record, DeadLetters.ERROR_MESSAGE))
            .contains("not delivered to webhook", "503", "gave up after 3 attempts");
      }
      assertThat(
              registry
                  .find(FleetMeter.REVIEW_DELIVERIES.meterName())
                  .tags("target", "webhook", "outcome", "dead_lettered")
                  .counter()
                  .count())
          .isGreaterThanOrEqualTo(2);
      System.out.printf(
          "webhook down: flags in %.1f s and %.1f s after staging; %d webhook requests in this test class, 2 dead letters:"
              + " %s%n",
          a.durationMs() / 1000.0,
          b.durationMs() / 1000.0,
          server.received("/hook").size(),
          header(dead.get(0), DeadLetters.ERROR_MESSAGE));
    } finally {
      server.failAlways(null, 0);
    }
  }

  @Test
  @Order(3)
  void theReportOpensInAHeadlessBrowserWithItsChartsDrawnAndNoConsoleErrors() throws Exception {
    Assumptions.assumeTrue(HeadlessChromium.available(), "Debian's chromium is not installed");
    Path report =
        Path.of(
            java.net.URI.create(
                archive().reportPath("reviewed", "int8", ReviewPublisher.REPORT).toString()));
    assertThat(report).exists();
    String html = Files.readString(report);
    assertThat(html).contains("Content-Security-Policy").doesNotContain("<script", "src=\"http");

    HeadlessChromium.Page page = HeadlessChromium.open(report, dir);
    assertThat(page.console()).as("console messages of the report").isEmpty();
    assertThat(page.pixels(Charts.HISTOGRAM)).as("histogram bars").isGreaterThan(5_000);
    assertThat(page.pixels(Charts.SCATTER)).as("scatter points").isGreaterThan(500);
    assertThat(page.pixels(Charts.INTERVAL)).as("interval whiskers").isGreaterThan(200);
    assertThat(page.pixels(Charts.HISTORY)).as("history points").isGreaterThan(50);
    System.out.printf(
        "report in chromium: %d x %d screenshot; pixels of histogram %d, scatter %d, intervals %d,"
            + " history %d; console lines %d%n",
        page.screenshot().getWidth(),
        page.screenshot().getHeight(),
        page.pixels(Charts.HISTOGRAM),
        page.pixels(Charts.SCATTER),
        page.pixels(Charts.INTERVAL),
        page.pixels(Charts.HISTORY),
        page.console().size());

    // The same check fails on a page that loads something its policy forbids, or draws nothing.
    Path broken = dir.resolve("broken.html");
    Files.writeString(
        broken,
        html.replaceFirst("src=\"data:image/png;base64,[^\"]+\"", "src=\"missing.png\"")
            .replaceAll("src=\"data:image/png;base64,[^\"]+\"", "src=\"\""));
    HeadlessChromium.Page brokenPage = HeadlessChromium.open(broken, dir);
    assertThat(brokenPage.console()).anyMatch(line -> line.contains("Content Security Policy"));
    assertThat(brokenPage.pixels(Charts.HISTOGRAM)).isZero();
  }

  @Test
  @Order(4)
  void historyListsEveryArchivedVersionInOrderAsATableAndAChart() throws Exception {
    var locks = archive().locks("reviewed");
    assertThat(locks).extracting(l -> l.version()).containsExactly("fp32", "int8", "int8-again");
    String table = HistoryTable.render("reviewed", locks);
    assertThat(table.lines().toList()).hasSize(4);
    assertThat(table).contains("c0ffeeint8", "GREEN", "spearman");
    String page = HtmlReport.renderHistory("reviewed", locks, Instant.now());
    assertThat(page.split("<img ", -1)).hasSize(1 + locks.get(locks.size() - 1).metrics().size());
  }

  @Test
  @Order(5)
  void progressIsPublishedAsTheRunGoesAndDrawnAsABar() throws Exception {
    ByteArrayOutputStream barOut = new ByteArrayOutputStream();
    ByteArrayOutputStream lineOut = new ByteArrayOutputStream();
    List<RunProgress> seen = new ArrayList<>();
    try (ProgressWatcher progress = new ProgressWatcher(fleet.config());
        ProgressDisplay bars =
            ProgressDisplay.bars(new PrintStream(barOut, true, StandardCharsets.UTF_8));
        ProgressDisplay lines =
            ProgressDisplay.lines(new PrintStream(lineOut, true, StandardCharsets.UTF_8))) {
      StagedWeightEvent event = event("progress", "fp32", fp32, null);
      ProgressDisplay both =
          new ProgressDisplay() {
            @Override
            protected void draw(RunProgress p) {
              seen.add(p);
              bars.show(p);
              lines.show(p);
            }

            @Override
            protected void end(String runId) {
              bars.finish(runId);
              lines.finish(runId);
            }

            @Override
            public void close() {}
          };
      submitter.submit(event);
      // as `submit --wait` does
      DriftFlag flag = flags.await(event.eventId(), WAIT, progress, both);
      assertThat(seen).hasSizeGreaterThanOrEqualTo(2);
      assertThat(seen).extracting(RunProgress::rowsScored).isSorted();
      RunProgress last = seen.get(seen.size() - 1);
      assertThat(last.complete()).isTrue();
      assertThat(last.rowsScored())
          .isEqualTo(last.rowsTotal())
          .isEqualTo(flag.coverage().rowsTotal());
      assertThat(last.shardsTotal()).isEqualTo(flag.coverage().shardsTotal());
    }
    System.out.printf(
        "progress: %d records for one run of %d rows%n", seen.size(), seen.get(0).rowsTotal());
    String bar = barOut.toString(StandardCharsets.UTF_8);
    assertThat(bar).contains("progress fp32", "100%", "shards");
    assertThat(bar).contains("\r");
    assertThat(lineOut.toString(StandardCharsets.UTF_8).lines().toList())
        .last()
        .asString()
        .startsWith("progress progress fp32: 240/240 rows (100%)");
  }

  static EvaluationArchive archive() {
    return new EvaluationArchive(
        Storage.withDefaults(), fleet.config().get(FleetConfig.ARCHIVE_ROOT));
  }

  static long patches() {
    return server.received("/github").stream().filter(r -> r.method().equals("PATCH")).count();
  }

  static long webhookDeliveries(String runId) {
    return server.received("/hook").stream()
        .filter(r -> runId.equals(r.headers().get("x-evalfleet-delivery")))
        .count();
  }

  static List<ConsumerRecord<String, byte[]>> deadLetters(String model) {
    List<ConsumerRecord<String, byte[]>> found = new ArrayList<>();
    try (var consumer = KafkaClients.reader(fleet.config(), "review-it-dlq")) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(Topics.DLQ).stream()
              .map(p -> new TopicPartition(p.topic(), p.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      var end = consumer.endOffsets(partitions);
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))
          && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          if (model.equals(record.key())) {
            found.add(record);
          }
        }
      }
    }
    return found;
  }

  static String header(ConsumerRecord<String, byte[]> record, String name) {
    var header = record.headers().lastHeader(name);
    return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }
}
