package io.evalfleet.notifier.report;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.Flag;
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
    RowChanges changes = RowChanges.of(Task.EMBEDDING.spec().rowScore(), Map.of("cosine", new double[] {0.5, 0.2, 0.9}),
        Map.of("cosine", new double[] {0.6, 0.6, 0.9}));
    var moved = List.of(new ReviewMaterial.MovedRowText("r1", Map.of("text_a", text), changes.mostMoved(1).get(0)));
    return new ReviewMaterial(Flags.flag("m", "v1", Flag.RED, new ReviewRef(ReviewRef.Provider.GITHUB, "o/r", 7, null)),
        null, null, changes, moved, null, List.of(), List.of());
  }

  @Test
  void isSelfContainedAndForbidsLoadingAnything() {
    String html = HtmlReport.render(material("plain"), Instant.parse("2026-12-01T00:00:00Z")).html();
    assertThat(html).contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:;");
    assertThat(html).doesNotContain("<script", "src=\"http", "href=\"http", "<link");
    assertThat(html).contains("scored 3 of 3 shards, 240 of 240 rows on cpu");
    // the interval chart, the histogram, the scatter
    assertThat(html.split("src=\"data:image/png;base64,", -1)).hasSize(4);
  }

  @Test
  void rowTextIsEscapedNotMarkup() {
    String html = HtmlReport.render(material("<script>alert(1)</script> & <b>"), Instant.now()).html();
    assertThat(html).doesNotContain("<script>alert(1)").contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;");
  }

  @Test
  void theHistogramComesBackAsItsOwnPng() {
    byte[] png = HtmlReport.render(material("t"), Instant.now()).histogramPng();
    assertThat(png).startsWith(0x89, 'P', 'N', 'G');
  }
}
