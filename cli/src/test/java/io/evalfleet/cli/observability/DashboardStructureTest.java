package io.evalfleet.cli.observability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.evalfleet.common.metrics.FleetMeter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The dashboards and alert rules, structurally: valid Grafana JSON with unique panel ids and a
 * layout, a query in every panel, and only metric names the fleet's catalogue declares
 * (PrometheusIT then runs every query against a real Prometheus).
 */
class DashboardStructureTest {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final Pattern EVALFLEET_NAME = Pattern.compile("\\bevalfleet_[a-z_]+");

  static Set<String> knownNames() {
    Set<String> names = new HashSet<>();
    for (FleetMeter meter : FleetMeter.values()) {
      String name = meter.prometheusName();
      names.add(name);
      if (meter.type() == FleetMeter.Type.TIMER || meter.type() == FleetMeter.Type.SUMMARY) {
        for (String suffix : List.of("_bucket", "_count", "_sum", "_max")) {
          names.add(name + suffix);
        }
      }
    }
    return names;
  }

  static List<Path> dashboards() throws Exception {
    try (Stream<Path> files = Files.list(ROOT.resolve("grafana/dashboards"))) {
      return files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
  }

  @Test
  void dashboardsAreValidAndEveryPanelHasALayoutAndAQuery() throws Exception {
    List<Path> files = dashboards();
    assertThat(files)
        .extracting(p -> p.getFileName().toString())
        .containsExactly(
            "evalfleet-drift-flags.json",
            "evalfleet-fleet-overview.json",
            "evalfleet-worker-internals.json");
    Set<String> uids = new HashSet<>();
    for (Path file : files) {
      JsonNode dashboard = new ObjectMapper().readTree(file.toFile());
      assertThat(dashboard.path("uid").asText())
          .as("%s uid", file)
          .isNotBlank()
          .matches("[a-z0-9-]{1,40}");
      assertThat(uids.add(dashboard.path("uid").asText())).as("unique uid %s", file).isTrue();
      assertThat(dashboard.path("title").asText()).isNotBlank();
      assertThat(dashboard.path("schemaVersion").asInt()).isGreaterThanOrEqualTo(36);
      Set<Integer> ids = new HashSet<>();
      for (JsonNode panel : dashboard.path("panels")) {
        String where = file.getFileName() + " panel '" + panel.path("title").asText() + "'";
        assertThat(ids.add(panel.path("id").asInt())).as("%s: unique id", where).isTrue();
        assertThat(panel.path("type").asText())
            .as("%s: type", where)
            .isIn("timeseries", "stat", "table", "row");
        JsonNode grid = panel.path("gridPos");
        assertThat(grid.path("w").asInt()).as("%s: width", where).isBetween(1, 24);
        assertThat(grid.path("h").asInt()).as("%s: height", where).isPositive();
        assertThat(grid.path("x").asInt() + grid.path("w").asInt())
            .as("%s: inside the grid", where)
            .isLessThanOrEqualTo(24);
        if (!panel.path("type").asText().equals("row")) {
          assertThat(panel.path("targets")).as("%s: queries", where).isNotEmpty();
          for (JsonNode target : panel.path("targets")) {
            assertThat(target.path("expr").asText()).as("%s: expr", where).isNotBlank();
            assertThat(target.path("refId").asText()).as("%s: refId", where).isNotBlank();
          }
        }
      }
    }
  }

  @Test
  void dashboardsAndAlertsUseOnlyMetricsTheFleetExports() throws Exception {
    Set<String> known = knownNames();
    List<String> used = new ArrayList<>();
    for (Path file : dashboards()) {
      for (JsonNode panel : new ObjectMapper().readTree(file.toFile()).path("panels")) {
        panel.path("targets").forEach(t -> used.addAll(names(t.path("expr").asText())));
      }
    }
    for (JsonNode group :
        new YAMLMapper()
            .readTree(ROOT.resolve("deploy/prometheus/alerts.yml").toFile())
            .path("groups")) {
      group.path("rules").forEach(rule -> used.addAll(names(rule.path("expr").asText())));
    }
    assertThat(used).as("evalfleet metric names in queries").isNotEmpty();
    assertThat(known).as("metric names the catalogue declares").containsAll(used);
  }

  @Test
  void everyAlertHasSeverityARunbookAndADocumentedSection() throws Exception {
    String operations = Files.readString(ROOT.resolve("docs/operations.md"));
    for (JsonNode group :
        new YAMLMapper()
            .readTree(ROOT.resolve("deploy/prometheus/alerts.yml").toFile())
            .path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        String alert = rule.path("alert").asText();
        assertThat(rule.path("labels").path("severity").asText())
            .as(alert)
            .isIn("critical", "warning", "info");
        assertThat(rule.path("annotations").path("summary").asText()).as(alert).isNotBlank();
        String runbook = rule.path("annotations").path("runbook_url").asText();
        assertThat(runbook).as(alert).isEqualTo("docs/operations.md#" + alert.toLowerCase());
        assertThat(ROOT.resolve(runbook.substring(0, runbook.indexOf('#'))))
            .as("%s's runbook file", alert)
            .exists();
        assertThat(operations)
            .as("docs/operations.md has a section for %s, the anchor of its runbook link", alert)
            .contains("### " + alert + "\n");
      }
    }
  }

  @Test
  void committedDashboardsAreWhatTheirGeneratorWrites() throws Exception {
    Process check =
        new ProcessBuilder("python3", "scripts/make_dashboards.py", "--check")
            .directory(ROOT.toFile())
            .redirectErrorStream(true)
            .start();
    String output =
        new String(check.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(check.waitFor())
        .as("python3 scripts/make_dashboards.py --check: %s", output)
        .isZero();
  }

  @Test
  void noQuerySelectsAFixedScrapeJob() throws Exception {
    Pattern fixedJob = Pattern.compile("\\bjob\\s*=\\s*\"");
    for (Path dashboard : dashboards()) {
      for (String expr : expressions(dashboard)) {
        assertThat(fixedJob.matcher(expr).find())
            .as(
                "%s: %s selects a fixed job; use the $job variable or the role" + " label",
                dashboard.getFileName(), expr)
            .isFalse();
      }
    }
    String alerts = Files.readString(ROOT.resolve("deploy/prometheus/alerts.yml"));
    assertThat(fixedJob.matcher(alerts).find()).as("alerts.yml selects a fixed job").isFalse();
  }

  @Test
  void provisioningPointsGrafanaAtTheDashboardsAndPrometheus() throws Exception {
    JsonNode providers =
        new YAMLMapper()
            .readTree(ROOT.resolve("grafana/provisioning/dashboards/evalfleet.yaml").toFile());
    assertThat(providers.path("providers").get(0).path("options").path("path").asText())
        .isEqualTo("/var/lib/grafana/dashboards/evalfleet");
    JsonNode datasources =
        new YAMLMapper()
            .readTree(ROOT.resolve("grafana/provisioning/datasources/prometheus.yaml").toFile());
    assertThat(datasources.path("datasources").get(0).path("uid").asText()).isEqualTo("prometheus");
    String compose = Files.readString(ROOT.resolve("deploy/compose/compose.yaml"));
    assertThat(compose)
        .as("compose mounts the dashboards where the provider looks")
        .contains("../../grafana/dashboards:/var/lib/grafana/dashboards/evalfleet");
  }

  /** Every query of every panel and template variable of a dashboard. */
  private static List<String> expressions(Path dashboard) throws Exception {
    List<String> expressions = new ArrayList<>();
    JsonNode json = new ObjectMapper().readTree(dashboard.toFile());
    json.path("panels")
        .forEach(
            panel -> panel.path("targets").forEach(t -> expressions.add(t.path("expr").asText())));
    json.path("templating")
        .path("list")
        .forEach(v -> expressions.add(v.path("definition").asText()));
    return expressions;
  }

  private static List<String> names(String expr) {
    List<String> names = new ArrayList<>();
    Matcher matcher = EVALFLEET_NAME.matcher(expr);
    while (matcher.find()) {
      names.add(matcher.group());
    }
    return names;
  }
}
