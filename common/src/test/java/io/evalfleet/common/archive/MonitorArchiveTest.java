package io.evalfleet.common.archive;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.MonitorResult;
import io.evalfleet.common.storage.Storage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MonitorArchiveTest {
  @TempDir Path dir;

  static MonitorResult result(Instant end, boolean drifted, Instant evaluatedAt) {
    return MonitorResult.builder()
        .model("support-embedder")
        .version("prod-7")
        .windowStart(end.minusSeconds(3600))
        .windowEnd(end)
        .referenceStart(Instant.parse("2026-11-01T00:00:00Z"))
        .referenceEnd(Instant.parse("2026-11-02T00:00:00Z"))
        .texts(200)
        .referenceTexts(200)
        .mmd2(0.01)
        .pValue(drifted ? 0.005 : 0.4)
        .alpha(0.05)
        .drifted(drifted)
        .evidence("e")
        .evaluatedAt(evaluatedAt)
        .build();
  }

  @Test
  void aResultIsArchivedUnderItsWindowEndInUtcBasicFormatWithoutChecksumFiles() throws Exception {
    EvaluationArchive archive =
        new EvaluationArchive(Storage.withDefaults(), dir.toUri().toString());
    archive.writeMonitorResult(
        result(
            Instant.parse("2026-12-01T10:00:00Z"), false, Instant.parse("2026-12-01T10:01:00Z")));
    archive.writeMonitorResult(
        result(
            Instant.parse("2026-12-01T11:00:00.250Z"),
            false,
            Instant.parse("2026-12-01T11:01:00Z")));
    try (Stream<Path> files = Files.list(dir.resolve("monitor/support-embedder"))) {
      assertThat(files.map(p -> p.getFileName().toString()).sorted())
          .containsExactly("20261201T100000Z.json", "20261201T110000.250Z.json");
    }
  }

  @Test
  void resultsUnderEpochMillisecondsAreStillReadAndACheckAgainReplacesThem() throws Exception {
    EvaluationArchive archive =
        new EvaluationArchive(Storage.withDefaults(), dir.toUri().toString());
    Instant nine = Instant.parse("2026-12-01T09:00:00Z");
    Instant ten = Instant.parse("2026-12-01T10:00:00Z");
    Path folder = Files.createDirectories(dir.resolve("monitor/support-embedder"));
    Files.write(
        folder.resolve(nine.toEpochMilli() + ".json"),
        Json.mapper().writeValueAsBytes(result(nine, false, nine.plusSeconds(60))));
    Files.write(
        folder.resolve(ten.toEpochMilli() + ".json"),
        Json.mapper().writeValueAsBytes(result(ten, false, ten.plusSeconds(60))));
    assertThat(archive.monitorHistory("support-embedder"))
        .extracting(MonitorResult::windowEnd)
        .containsExactly(nine, ten);

    archive.writeMonitorResult(result(ten, true, ten.plusSeconds(600)));
    assertThat(archive.monitorHistory("support-embedder"))
        .extracting(MonitorResult::windowEnd, MonitorResult::drifted)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(nine, false),
            org.assertj.core.groups.Tuple.tuple(ten, true));
    try (Stream<Path> files = Files.list(folder)) {
      assertThat(files.map(p -> p.getFileName().toString()).sorted())
          .containsExactly(nine.toEpochMilli() + ".json", "20261201T100000Z.json");
    }
  }
}
