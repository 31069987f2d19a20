package io.evalfleet.notifier.report;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.archive.EvaluationLock;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.MetricValue;
import io.evalfleet.common.contract.ReviewRef;
import io.evalfleet.common.task.Task;
import io.evalfleet.notifier.review.ReviewMaterial;
import io.evalfleet.notifier.review.RowChanges;
import io.evalfleet.notifier.testing.Flags;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HtmlReportTest {
  private static ReviewMaterial material(String text) {
    RowChanges changes =
        RowChanges.of(
            Task.EMBEDDING.spec().rowScore(),
            Map.of("cosine", new double[] {0.5, 0.2, 0.9}),
            Map.of("cosine", new double[] {0.6, 0.6, 0.9}));
    var moved =
        List.of(
            new ReviewMaterial.MovedRowText(
                "r1", Map.of("text_a", text), changes.mostMoved(1).get(0)));
    return new ReviewMaterial(
        Flags.flag("m", "v1", Flag.RED, new ReviewRef(ReviewRef.Provider.GITHUB, "o/r", 7, null)),
        null,
        null,
        changes,
        moved,
        null,
        List.of(),
        List.of());
  }

  @Test
  void isSelfContainedAndForbidsLoadingAnything() {
    String html =
        HtmlReport.render(material("plain"), Instant.parse("2026-12-01T00:00:00Z")).html();
    assertThat(html)
        .contains(
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:;");
    assertThat(html).doesNotContain("<script", "src=\"http", "href=\"http", "<link");
    assertThat(html).contains("scored 3 of 3 shards, 240 of 240 rows on cpu");
    // the interval chart, the histogram, the scatter
    assertThat(html.split("src=\"data:image/png;base64,", -1)).hasSize(4);
  }

  @Test
  void rowTextIsEscapedNotMarkup() {
    String html =
        HtmlReport.render(material("<script>alert(1)</script> & <b>"), Instant.now()).html();
    assertThat(html)
        .doesNotContain("<script>alert(1)")
        .contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;");
  }

  @Test
  void theHistogramComesBackAsItsOwnPng() {
    byte[] png = HtmlReport.render(material("t"), Instant.now()).histogramPng();
    assertThat(png).startsWith(0x89, 'P', 'N', 'G');
  }

  static io.evalfleet.common.archive.EvaluationLock lock(String version, String tokenizerSha256) {
    return EvaluationLock.builder()
        .model("m")
        .version(version)
        .eventId("ev-" + version)
        .runId("run-" + version)
        .commit("c0ffee")
        .task("embedding")
        .tokenizerSha256(tokenizerSha256)
        .policyVersion("1")
        .flag(Flag.GREEN)
        .metrics(Map.of())
        .scoresReused(false)
        .decidedAt(Instant.parse("2026-12-01T00:00:00Z"))
        .build();
  }

  @Test
  void whatToDoNextShowsItsCommandsAsCodeNotAsBackticks() {
    var flag = Flags.flag("m", "v1", Flag.GREEN, null);
    String html =
        HtmlReport.render(ReviewMaterial.unarchived(flag, List.of()), Instant.now()).html();
    assertThat(html).contains("<code>evalfleet baseline promote --model m --version v1</code>");
    String next =
        html.substring(html.indexOf("<h2>What to do next</h2>"), html.indexOf("<h2>Evidence</h2>"));
    assertThat(next).doesNotContain("`");
  }

  @Test
  void lockfileDigestsAreShortenedWithTheFullValueOnHover() {
    String before = "a".repeat(64);
    String after = "0123456789ab" + "c".repeat(52);
    var diff = new io.evalfleet.common.archive.LockDiff(lock("v0", before), lock("v1", after));
    var flag = Flags.flag("m", "v1", Flag.GREEN, null);
    String html =
        HtmlReport.render(
                new ReviewMaterial(
                    flag,
                    lock("v1", after),
                    lock("v0", before),
                    null,
                    List.of(),
                    diff,
                    List.of(),
                    List.of()),
                Instant.now())
            .html();
    String table =
        html.substring(
            html.indexOf("<h2>Lockfile: what changed"), html.indexOf("<h2>Lockfile</h2>"));
    assertThat(table)
        .contains("<code class=\"digest\" title=\"" + after + "\">0123456789ab…</code>");
    assertThat(table.replace("title=\"" + after + "\"", "").replace("title=\"" + before + "\"", ""))
        .doesNotContain(after, before);
    assertThat(html).contains("overflow-wrap: anywhere");
  }

  @Test
  void aTinyMetricValueSharesItsColumnsFormatInsteadOfScientificNotation() {
    var spearman =
        MetricValue.builder()
            .value(0.85)
            .n(240)
            .direction("higher_is_better")
            .baseline(0.8504)
            .relativeDelta(-0.0005)
            .ciLow(-0.003)
            .ciHigh(0.002)
            .ciConfidence(0.95)
            .margin(0.02)
            .gating(true)
            .pValue(0.001)
            .status(Flag.GREEN)
            .evidence("e")
            .build();
    var kl =
        MetricValue.builder()
            .value(5.679e-05)
            .n(240)
            .direction("lower_is_better")
            .ciLow(3e-5)
            .ciHigh(8e-5)
            .ciConfidence(0.975)
            .gating(true)
            .pValue(0.001)
            .status(Flag.GREEN)
            .evidence("e")
            .limit(0.05)
            .build();
    var base = Flags.flag("m", "v1", Flag.GREEN, null);
    var flag =
        DriftFlag.builder()
            .runId(base.runId())
            .eventId(base.eventId())
            .model("m")
            .version("v1")
            .baselineVersion("v0")
            .flag(Flag.GREEN)
            .metrics(new java.util.TreeMap<>(Map.of("spearman", spearman, "kl_mean", kl)))
            .reasons(List.of("r"))
            .coverage(base.coverage())
            .executionProviders(base.executionProviders())
            .stagedAt(base.stagedAt())
            .decidedAt(base.decidedAt())
            .durationMs(5000L)
            .policyVersion("1")
            .build();
    var material = ReviewMaterial.unarchived(flag, List.of());
    String html = HtmlReport.render(material, Instant.now()).html();
    assertThat(html)
        .contains(
            "<td class=\"num\">0.0000568</td>",
            "<td class=\"num\">0.8500000</td>",
            "<td class=\"num\">0.8504000</td>")
        .doesNotContain("5.679e-05");
    String md =
        io.evalfleet.notifier.review.ReviewMarkdown.render(
            material, new io.evalfleet.notifier.review.ReviewMarkdown.Links("r", null));
    assertThat(md)
        .contains("| kl_mean | 0.0000568 | – |", "| spearman | 0.8500000 | 0.8504000 | -0.05% |")
        .doesNotContain("e-05");
  }
}
