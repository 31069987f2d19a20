package io.evalfleet.laptop.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.evalfleet.cli.Submitter;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.task.Task;
import io.evalfleet.laptop.demo.DemoAssets;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboards and alert rules against the real thing: a Prometheus server (Debian's package)
 * scrapes a fleet of real processes while it judges models, then every query of every dashboard
 * panel and every alert rule is evaluated through Prometheus's HTTP API. A query that errors or
 * returns no data fails the test: a panel nobody's metrics feed is worse than none.
 */
class PrometheusIT {
  static final Path PROMETHEUS = Path.of("/usr/bin/prometheus");
  static final Path DASHBOARDS = Path.of("..", "grafana", "dashboards");
  static final Path ALERTS = Path.of("..", "deploy", "prometheus", "alerts.yml");
  static final ObjectMapper JSON = new ObjectMapper();

  /** The test stages a RED version and an unparseable event on purpose. */
  static final java.util.Set<String> ALERTS_THE_TRAFFIC_CAUSES =
      java.util.Set.of(
          "EvalfleetRedFlag",
          "EvalfleetDeadLettersRising",
          "EvalfleetReviewsNotDelivered",
          "EvalfleetTrafficDrift");

  @TempDir Path dir;
  final HttpClient http = HttpClient.newHttpClient();

  @Test
  void everyPanelAndEveryAlertQueryReturnsDataFromARealFleet() throws Exception {
    assumeTrue(
        Files.isExecutable(PROMETHEUS),
        "no Prometheus server at "
            + PROMETHEUS
            + ": the build installs Debian's"
            + " `prometheus` package when apt-get may (scripts/ensure-debian-package.sh); install it to run this test");
    try (FleetHarness fleet = FleetHarness.start(dir, 4)) {
      int dispatcherPort = FleetHarness.freePort();
      List<Integer> workerPorts = List.of(FleetHarness.freePort(), FleetHarness.freePort());
      fleet.dispatcher("dispatcher", "-D", "metrics.port=" + dispatcherPort);
      fleet.worker("worker-a", "384m", "-D", "metrics.port=" + workerPorts.get(0));
      fleet.worker("worker-b", "384m", "-D", "metrics.port=" + workerPorts.get(1));
      // The notifier's webhook points at a port nobody listens on: its reviews end as dead letters.
      int notifierPort = FleetHarness.freePort();
      Path secret = Files.writeString(dir.resolve("webhook-secret"), "s3cret");
      fleet.notifier(
          "notifier",
          "-D",
          "metrics.port=" + notifierPort,
          "-D",
          "notifier.webhook-url=http://127.0.0.1:" + FleetHarness.freePort() + "/hook",
          "-D",
          "notifier.webhook-secret-file=" + secret,
          "-D",
          "notifier.delivery-attempts=2",
          "-D",
          "notifier.delivery-backoff=PT0.1S");
      // The monitor checks shifted traffic every two seconds: its checks find drift.
      int monitorPort = FleetHarness.freePort();
      fleet.monitor("monitor", "-D", "metrics.port=" + monitorPort);
      FleetProcess prometheus =
          startPrometheus(dispatcherPort, workerPorts, notifierPort, monitorPort);
      String api = "http://127.0.0.1:" + prometheusPort;
      awaitTargetsUp(api, 5);

      // Traffic with every flag value but INCOMPLETE: GREEN, WARN, RED, ERROR (and a dead letter).
      List<StagedWeightEvent> events = new ArrayList<>(fleet.stage("prom-minilm", 2, 120));
      events.addAll(stageCausalPair(fleet));
      try (Submitter submitter = new Submitter(fleet.config)) {
        submitter.submitRaw("prom-broken", "{not json".getBytes(StandardCharsets.UTF_8));
      }
      Map<String, DriftFlag> flags = fleet.awaitFlags(events, Duration.ofMinutes(3), false);
      assertThat(flags.values().stream().map(DriftFlag::flag).collect(Collectors.toSet()))
          .contains(Flag.GREEN, Flag.WARN, Flag.RED);
      // Rates need a few monitor samples and scrapes after the last flag: wait until every query
      // answers.
      Evaluation evaluation;
      try {
        evaluation =
            await("every panel and alert query answers")
                .atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofSeconds(3))
                .until(() -> evaluate(api), e -> e.failures().isEmpty());
      } catch (org.awaitility.core.ConditionTimeoutException e) {
        evaluation = evaluate(api);
      }
      int panels = evaluation.panels();
      int alerts = evaluation.alerts();
      Map<String, String> failures = evaluation.failures();
      System.out.printf(
          "Prometheus %s evaluated %d panel queries and %d alert queries against a fleet of 5 processes:"
              + " %d failed%n",
          version(api), panels, alerts, failures.size());
      assertThat(panels).as("panel queries").isGreaterThanOrEqualTo(20);
      assertThat(alerts).as("alert rules").isGreaterThanOrEqualTo(5);
      assertThat(failures)
          .as(
              "queries without data or with errors (fleet logs: %s; prometheus: %s)",
              fleet.logs(), prometheus.tail())
          .isEmpty();
      prometheus.close();
    }
  }

  private int prometheusPort;

  /** Every panel query, alert query and rule's health, with what is wrong with each that fails. */
  private record Evaluation(int panels, int alerts, Map<String, String> failures) {}

  private Evaluation evaluate(String api) throws Exception {
    Map<String, String> failures = new LinkedHashMap<>();
    int panels = 0;
    for (Path dashboard : dashboards()) {
      for (JsonNode panel : panels(JSON.readTree(dashboard.toFile()))) {
        for (JsonNode target : panel.path("targets")) {
          String expr = target.path("expr").asText("");
          if (expr.isBlank()) {
            continue;
          }
          panels++;
          String problem = check(api, grafanaToPromQl(expr));
          if (problem != null) {
            failures.put(
                dashboard.getFileName() + " / " + panel.path("title").asText() + ": " + expr,
                problem);
          }
        }
      }
    }
    int alerts = 0;
    for (JsonNode group : new YAMLMapper().readTree(ALERTS.toFile()).path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        if (!rule.has("alert")) {
          continue;
        }
        alerts++;
        String expr = rule.path("expr").asText();
        String query = queryPartOf(expr);
        String problem = check(api, query);
        if (problem != null) {
          failures.put("alert " + rule.path("alert").asText() + ": " + query, problem);
        }
        // A healthy fleet (a CPU-only one with the default execution provider) must not alert, but
        // for
        // what this test's traffic causes on purpose: a RED flag and a dead letter.
        String alert = rule.path("alert").asText();
        if (!ALERTS_THE_TRAFFIC_CAUSES.contains(alert) && fires(api, expr)) {
          failures.put("alert " + alert + " fires on a healthy fleet: " + expr, "expected no data");
        }
      }
    }
    JsonNode ruleHealth = get(api + "/api/v1/rules").path("data").path("groups");
    for (JsonNode group : ruleHealth) {
      for (JsonNode rule : group.path("rules")) {
        if (!rule.path("health").asText().equals("ok")
            && !rule.path("health").asText().equals("unknown")) {
          failures.put(
              "rule " + rule.path("name").asText() + " evaluation",
              rule.path("lastError").asText());
        }
      }
    }
    return new Evaluation(panels, alerts, failures);
  }

  @Test
  void alertRulesAndScrapeConfigPassPromtoolAndTheirUnitTests() throws Exception {
    Path promtool = Path.of("/usr/bin/promtool");
    assumeTrue(
        Files.isExecutable(promtool),
        "no promtool at " + promtool + " (Debian package `prometheus`)");
    Path deploy = Path.of("..", "deploy", "prometheus").toAbsolutePath().normalize();
    for (List<String> check :
        List.of(
            List.of("check", "rules", deploy.resolve("alerts.yml").toString()),
            List.of("test", "rules", deploy.resolve("alerts.test.yml").toString()),
            List.of(
                "check", "config", "--syntax-only", deploy.resolve("prometheus.yml").toString()))) {
      List<String> command = new ArrayList<>(List.of(promtool.toString()));
      command.addAll(check);
      Process process =
          new ProcessBuilder(command).directory(deploy.toFile()).redirectErrorStream(true).start();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(process.waitFor())
          .as("promtool %s:%n%s", String.join(" ", check), output)
          .isZero();
    }
  }

  private FleetProcess startPrometheus(
      int dispatcherPort, List<Integer> workerPorts, int notifierPort, int monitorPort)
      throws Exception {
    prometheusPort = FleetHarness.freePort();
    Path rules = dir.resolve("alerts.yml");
    Files.copy(ALERTS, rules);
    String config =
        """
        global:
          scrape_interval: 1s
          evaluation_interval: 1s
        rule_files: ["%s"]
        scrape_configs:
          - job_name: flag-service
            static_configs: [{targets: ["127.0.0.1:%d"]}]
          - job_name: scorers
            static_configs: [{targets: [%s]}]
          - job_name: reviewers
            static_configs: [{targets: ["127.0.0.1:%d"]}]
          - job_name: monitors
            static_configs: [{targets: ["127.0.0.1:%d"]}]
        """
            .formatted(
                rules,
                dispatcherPort,
                workerPorts.stream()
                    .map(p -> "\"127.0.0.1:" + p + "\"")
                    .collect(Collectors.joining(", ")),
                notifierPort,
                monitorPort);
    Path file = Files.writeString(dir.resolve("prometheus.yml"), config);
    FleetProcess prometheus =
        FleetProcess.external(
                "prometheus",
                dir.resolve("logs"),
                List.of(
                    PROMETHEUS.toString(),
                    "--config.file=" + file,
                    "--storage.tsdb.path=" + dir.resolve("tsdb"),
                    "--web.listen-address=127.0.0.1:" + prometheusPort))
            .start();
    return prometheus;
  }

  private void awaitTargetsUp(String api, int targets) {
    await("Prometheus up and scraping " + targets + " targets")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .ignoreExceptionsInstanceOf(java.io.IOException.class)
        .until(
            () -> {
              JsonNode result =
                  get(api + "/api/v1/query?query=" + encode("sum(up)")).path("data").path("result");
              return result.size() == 1 && result.get(0).path("value").get(1).asDouble() >= targets;
            });
  }

  private List<StagedWeightEvent> stageCausalPair(FleetHarness fleet) throws Exception {
    DemoAssets assets = new DemoAssets(dir.resolve("assets"));
    var base = assets.causalModel(DemoAssets.CausalModel.BYTEGPT_BASE);
    var tuned = assets.causalModel(DemoAssets.CausalModel.BYTEGPT_FINETUNED);
    var text = assets.heldoutText();
    List<StagedWeightEvent> events =
        List.of(
            StagedWeightEvent.builder()
                .eventId("prom-lm-base")
                .model("prom-bytegpt")
                .version("base")
                .task(Task.CAUSAL_LM)
                .artifact(base.onnx())
                .tokenizer(base.tokenizer())
                .goldenSubset(text)
                .maxSeqLen(DemoAssets.CAUSAL_CONTEXT)
                .stride(64)
                .createdAt(Instant.now())
                .build(),
            StagedWeightEvent.builder()
                .eventId("prom-lm-tuned")
                .model("prom-bytegpt")
                .version("tuned")
                .task(Task.CAUSAL_LM)
                .artifact(tuned.onnx())
                .tokenizer(tuned.tokenizer())
                .goldenSubset(text)
                .maxSeqLen(DemoAssets.CAUSAL_CONTEXT)
                .stride(64)
                .createdAt(Instant.now())
                .build());
    try (Submitter submitter = new Submitter(fleet.config)) {
      submitter.submit(events.get(0));
      fleet.awaitFlags(List.of(events.get(0)), Duration.ofMinutes(2), false); // the baseline first
      submitter.submit(events.get(1));
    }
    return events;
  }

  /** Null when the query ran and returned at least one sample, else what went wrong. */
  private String check(String api, String promql) throws Exception {
    JsonNode answer = get(api + "/api/v1/query?query=" + encode(promql));
    if (!answer.path("status").asText().equals("success")) {
      return "error: " + answer.path("error").asText();
    }
    return answer.path("data").path("result").isEmpty() ? "no data" : null;
  }

  private JsonNode get(String url) throws Exception {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());
    return JSON.readTree(response.body());
  }

  private String version(String api) throws Exception {
    return get(api + "/api/v1/status/buildinfo").path("data").path("version").asText("?");
  }

  /**
   * Grafana's built-in variables and the dashboards' template variables, as Grafana would fill them
   * in.
   */
  static String grafanaToPromQl(String expr) {
    return expr.replace("$__rate_interval", "1m")
        .replace("${__rate_interval}", "1m")
        .replace("$__interval", "15s")
        .replace("$__range", "5m")
        .replaceAll("\\$\\{?[A-Za-z_][A-Za-z0-9_]*(:[a-z]+)?}?", ".*");
  }

  /** Whether an alert's whole expression returns data now, i.e. the alert is pending or firing. */
  private boolean fires(String api, String expr) throws Exception {
    JsonNode response = get(api + "/api/v1/query?query=" + encode(expr));
    return response.path("data").path("result").size() > 0;
  }

  /**
   * The query of an alert expression: everything left of its final top-level comparison with a
   * number.
   */
  static String queryPartOf(String expr) {
    String trimmed = expr.strip();
    var matcher =
        java.util.regex.Pattern.compile(
                "^(.*\\S)\\s*(>=|<=|==|!=|>|<)\\s*(bool\\s+)?-?[0-9.eE+]+$",
                java.util.regex.Pattern.DOTALL)
            .matcher(trimmed);
    return matcher.matches() ? matcher.group(1) : trimmed;
  }

  private static List<Path> dashboards() throws java.io.IOException {
    try (Stream<Path> files = Files.list(DASHBOARDS)) {
      return files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
  }

  /** Every panel, rows' nested panels included. */
  private static List<JsonNode> panels(JsonNode dashboard) {
    List<JsonNode> all = new ArrayList<>();
    for (JsonNode panel : dashboard.path("panels")) {
      all.add(panel);
      panel.path("panels").forEach(all::add);
    }
    return all;
  }

  private static String encode(String query) {
    return URLEncoder.encode(query, StandardCharsets.UTF_8);
  }
}
