package io.evalfleet.notifier.review;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.ReviewRef;
import io.evalfleet.common.task.Task;
import io.evalfleet.notifier.testing.Flags;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReviewMarkdownTest {
  private static ReviewMaterial material(Flag flag) {
    RowChanges changes =
        RowChanges.of(
            Task.EMBEDDING.spec().rowScore(),
            Map.of("cosine", new double[] {0.5, 0.2, 0.9}),
            Map.of("cosine", new double[] {0.6, 0.6, 0.9}));
    var moved =
        List.of(
            new ReviewMaterial.MovedRowText(
                "pair-7",
                new java.util.TreeMap<>(Map.of("text_a", "a | b", "text_b", "<b>bold</b>")),
                changes.mostMoved(1).get(0)));
    return new ReviewMaterial(
        Flags.flag("m", "v1", flag, new ReviewRef(ReviewRef.Provider.GITHUB, "o/r", 7, null)),
        null,
        null,
        changes,
        moved,
        null,
        List.of(),
        List.of("cannot read the history: boom"));
  }

  @Test
  void opensWithTheMarkerThenTheFlagAndTheVerdict() {
    String md =
        ReviewMarkdown.render(
            material(Flag.RED), new ReviewMarkdown.Links("https://r/report.html", null));
    List<String> lines = md.lines().toList();
    assertThat(lines.get(0)).isEqualTo(ReviewMarkdown.marker("m"));
    assertThat(lines.get(1)).contains("RED", "`m`", "`v1`", "`v0`");
    assertThat(lines.get(3))
        .startsWith("Version v1 must not ship against version v0: spearman RED");
    assertThat(md)
        .contains(
            "| spearman | 0.8100 | 0.8500 | -4.70% | [-6.00%, -3.00%] at 95.0% | 2.00% | 🔴 RED |");
    assertThat(md)
        .contains("[Full report](https://r/report.html)", "evalfleet lock diff --model m v0 v1");
    assertThat(md).contains("not shown: cannot read the history: boom");
  }

  @Test
  void rowTextCannotBreakTheTableOrInjectHtml() {
    String md = ReviewMarkdown.render(material(Flag.WARN), new ReviewMarkdown.Links("r", null));
    assertThat(md)
        .contains("| pair-7 | a \\| b ⟷ &lt;b&gt;bold&lt;/b&gt; | 0.6000 | 0.2000 | -0.4000 |");
  }

  @Test
  void showsTheHistogramImageOnlyWhenTheReportHasAPublicAddressAndTheTextHistogramAlways() {
    String withImage =
        ReviewMarkdown.render(
            material(Flag.GREEN), new ReviewMarkdown.Links("r", "https://r/h.png"));
    String without =
        ReviewMarkdown.render(material(Flag.GREEN), new ReviewMarkdown.Links("r", null));
    assertThat(withImage).contains("](https://r/h.png)").contains("```text");
    assertThat(without).doesNotContain("![").contains("```text");
  }

  @Test
  void textHistogramBarsAreProportionalToCounts() {
    String text =
        ReviewMarkdown.textHistogram(
            new RowChanges.Bins(new double[] {0, 1, 2, 3}, new long[] {28, 14, 1}));
    List<String> lines = text.lines().toList();
    assertThat(lines).hasSize(3);
    assertThat(lines.get(0)).contains("█".repeat(28) + " 28");
    assertThat(lines.get(1)).contains("│" + "█".repeat(14) + " ");
    assertThat(lines.get(2)).contains("│█ ").endsWith(" 1");
  }
}
