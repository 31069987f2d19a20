package io.evalfleet.common.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class FleetMeterTest {
  @Test
  void everyCatalogueNameIsTheNamePrometheusShows() throws Exception {
    try (Observability observability = new Observability("test")) {
      var registry = observability.registry();
      for (FleetMeter meter : FleetMeter.values()) {
        String[] tags = Collections.nCopies(meter.tagKeys().size(), "x").toArray(String[]::new);
        switch (meter.type()) {
          case COUNTER -> meter.counter(registry, tags).increment();
          case TIMER -> meter.timer(registry, tags).record(java.time.Duration.ofMillis(5));
          case SUMMARY -> meter.summary(registry, tags).record(0.5);
          case GAUGE -> {
            if (meter != FleetMeter.PROCESS_RSS && meter != FleetMeter.BUILD_INFO) {
              meter.gauge(registry, () -> 1, tags);
            }
          }
          case FUNCTION_COUNTER -> meter.functionCounter(registry, new Object(), o -> 3);
        }
      }
      String scrape = registry.scrape();
      for (FleetMeter meter : FleetMeter.values()) {
        String name =
            meter.type() == FleetMeter.Type.TIMER
                ? meter.prometheusName() + "_count"
                : meter.type() == FleetMeter.Type.SUMMARY
                    ? meter.prometheusName() + "_count"
                    : meter.prometheusName();
        assertThat(scrape).as(meter.name()).containsPattern("(?m)^" + name + "\\{");
      }
    }
  }

  @Test
  void tagsMustMatchTheCatalogue() {
    try (Observability observability = new Observability("test")) {
      assertThatThrownBy(() -> FleetMeter.FLAGS.counter(observability.registry(), "only-model"))
          .hasMessageContaining("takes tags [model, flag]");
    }
  }

  @Test
  void endpointsServeMetricsAndHealth() throws Exception {
    AtomicBoolean alive = new AtomicBoolean(true);
    try (Observability observability = new Observability("test").serve(0, alive::get, alive::get)) {
      HttpClient http = HttpClient.newHttpClient();
      String base = "http://localhost:" + observability.port();
      HttpResponse<String> metrics =
          http.send(
              HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(metrics.body())
          .contains("evalfleet_build_info{")
          .contains("jvm_memory_used_bytes");
      assertThat(
              http.send(
                      HttpRequest.newBuilder(URI.create(base + "/health/live")).build(),
                      HttpResponse.BodyHandlers.ofString())
                  .statusCode())
          .isEqualTo(200);
      alive.set(false);
      assertThat(
              http.send(
                      HttpRequest.newBuilder(URI.create(base + "/health/ready")).build(),
                      HttpResponse.BodyHandlers.ofString())
                  .statusCode())
          .isEqualTo(503);
    }
  }

  @Test
  void docsHoldTheReferenceGeneratedFromTheCatalogue() throws Exception {
    String doc = Files.readString(Path.of("..", "docs", "metrics.md"));
    assertThat(doc)
        .as("docs/metrics.md is stale: regenerate it with scripts/regenerate-metrics-doc.sh")
        .contains(FleetMeter.markdownReference());
  }
}
