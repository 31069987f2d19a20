package io.evalfleet.notifier;

import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.archive.EvaluationLock;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.MetricValue;
import io.evalfleet.common.failure.InputException;
import io.evalfleet.common.task.Task;
import io.evalfleet.notifier.report.HtmlReport;
import io.evalfleet.notifier.review.Review;
import io.evalfleet.notifier.review.ReviewAssembler;
import io.evalfleet.notifier.review.ReviewMarkdown;
import io.evalfleet.notifier.review.ReviewMaterial;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a flag's review into the archive ({@code reports/<model>/<version>/}: {@code report.html},
 * {@code delta-histogram.png}, {@code review.md}) and returns it for delivery. Writing the same
 * flag again overwrites the same files. Thread-safe.
 */
public final class ReviewPublisher {
  public static final String REPORT = "report.html";
  public static final String HISTOGRAM = "delta-histogram.png";
  public static final String COMMENT = "review.md";

  /**
   * The flag the review was written for, kept so that {@code evalfleet report} can write it again.
   */
  public static final String FLAG = "flag.json";

  private static final Logger log = LoggerFactory.getLogger(ReviewPublisher.class);

  private final ReviewAssembler assembler;
  private final String publicBaseUrl;
  private final Clock clock;

  /**
   * @param publicBaseUrl where the archive's root is published for reviewers (e.g. behind a web
   *     server); empty if it is not
   */
  public ReviewPublisher(ReviewAssembler assembler, String publicBaseUrl, Clock clock) {
    this.assembler = assembler;
    this.publicBaseUrl =
        publicBaseUrl == null || publicBaseUrl.isBlank()
            ? null
            : publicBaseUrl.endsWith("/") ? publicBaseUrl : publicBaseUrl + "/";
    this.clock = clock;
  }

  public Review publish(DriftFlag flag) {
    ReviewMaterial material = assembler.assemble(flag);
    if (flag.model() == null) {
      // An event too broken to name its model: a comment, but nowhere in the archive to keep a
      // report.
      String reason = "(no report: the event named no model)";
      return new Review(
          flag,
          ReviewMarkdown.render(material, new ReviewMarkdown.Links(reason, null)),
          null,
          reason);
    }
    EvaluationArchive archive = assembler.archive();
    String model = material.model();
    String version = material.version();
    String reportUri = null;
    boolean histogramWritten = false;
    try {
      HtmlReport.Rendered report = HtmlReport.render(material, clock.instant());
      archive.writeReportFile(model, version, FLAG, Json.write(flag));
      reportUri =
          archive.writeReportFile(
              model, version, REPORT, report.html().getBytes(StandardCharsets.UTF_8));
      if (report.histogramPng() != null) {
        archive.writeReportFile(model, version, HISTOGRAM, report.histogramPng());
        histogramWritten = true;
      }
    } catch (IOException | RuntimeException e) {
      log.error(
          "cannot write the report of {} {} to {}: {}",
          model,
          version,
          archive.root(),
          e.toString(),
          e);
    }
    String reportLink =
        reportUri == null
            ? "(the report could not be written to " + archive.root() + ")"
            : publicBaseUrl != null
                ? publicBaseUrl + EvaluationArchive.reportRelativePath(model, version, REPORT)
                : reportUri;
    String histogramLink =
        publicBaseUrl != null && histogramWritten
            ? publicBaseUrl + EvaluationArchive.reportRelativePath(model, version, HISTOGRAM)
            : null;
    String markdown =
        ReviewMarkdown.render(material, new ReviewMarkdown.Links(reportLink, histogramLink));
    try {
      archive.writeReportFile(model, version, COMMENT, markdown.getBytes(StandardCharsets.UTF_8));
    } catch (IOException | RuntimeException e) {
      log.error(
          "cannot write the comment of {} {} to {}: {}",
          model,
          version,
          archive.root(),
          e.toString());
    }
    return new Review(flag, markdown, reportUri, reportLink);
  }

  /**
   * Writes the review of an archived version again (with the archive as it is now, e.g. a longer
   * history): from the flag kept beside its report, or, for a version reviewed before the notifier
   * ran, from its lockfile.
   *
   * @throws IOException when the archive holds neither
   */
  public Review rebuild(String model, String version) throws IOException {
    EvaluationArchive archive = assembler.archive();
    Optional<byte[]> kept = archive.reportFile(model, version, FLAG);
    if (kept.isPresent()) {
      return publish(Json.read(kept.get(), DriftFlag.class));
    }
    EvaluationLock lock =
        archive
            .lock(model, version)
            .orElseThrow(
                () ->
                    new InputException(
                        "the archive "
                            + archive.root()
                            + " has no evaluation of "
                            + model
                            + " "
                            + version
                            + " (no lockfile at "
                            + archive.lockPath(model, version)
                            + ")"));
    return publish(flagOf(lock, archive.lockPath(model, version).toString()));
  }

  /**
   * The flag a lockfile records, without what only the flag carries (evidence sentences, coverage).
   */
  static DriftFlag flagOf(EvaluationLock lock, String lockUri) {
    Map<String, MetricValue> metrics = new LinkedHashMap<>();
    lock.metrics()
        .forEach(
            (name, m) ->
                metrics.put(
                    name,
                    MetricValue.builder()
                        .value(m.value())
                        .n(0)
                        .direction(Task.direction(name).wireName())
                        .baseline(m.baseline())
                        .delta(m.baseline() == null ? null : m.value() - m.baseline())
                        .relativeDelta(m.relativeChange())
                        .ciLow(m.ciLow())
                        .ciHigh(m.ciHigh())
                        .ciConfidence(m.ciConfidence())
                        .margin(m.margin())
                        .gating(m.status() != null)
                        .bandLow(m.bandLow())
                        .bandHigh(m.bandHigh())
                        .status(m.status())
                        .limit(m.limit())
                        .build()));
    return DriftFlag.builder()
        .runId(lock.runId())
        .eventId(lock.eventId())
        .model(lock.model())
        .version(lock.version())
        .baselineVersion(lock.baselineVersion())
        .flag(lock.flag())
        .metrics(metrics)
        .reasons(
            List.of(
                "rebuilt from the lockfile "
                    + lockUri
                    + " (the flag's own evidence sentences were not kept)"))
        .executionProviders(lock.executionProviders())
        .decidedAt(lock.decidedAt())
        .policyVersion(lock.policyVersion())
        .lockfile(lockUri)
        .build();
  }
}
