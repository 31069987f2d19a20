package io.evalfleet.common.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.evalfleet.common.process.ProcessMemory;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;

/**
 * A role's Prometheus registry and its HTTP endpoints: {@code /metrics} (Prometheus text format),
 * {@code /health/live} (200 while the role's loop runs, 503 once it died) and {@code /health/ready}
 * (200 once the role is started and its loop runs). JVM, GC, thread, CPU and uptime metrics and the
 * process's resident memory are bound here; roles add their own meters from {@link FleetMeter}.
 * Closes the server it started.
 */
public final class Observability implements AutoCloseable {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final JvmGcMetrics gc = new JvmGcMetrics();
  private HttpServer server;
  private volatile BooleanSupplier live = () -> true;
  private volatile BooleanSupplier ready = () -> false;

  /**
   * @param role {@code dispatcher}, {@code worker} or {@code local} (a whole fleet in one process)
   */
  public Observability(String role) {
    registry.config().commonTags("role", role);
    new ClassLoaderMetrics().bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    FleetMeter.PROCESS_RSS.gauge(registry, ProcessMemory::rssBytes);
    FleetMeter.BUILD_INFO.gauge(registry, () -> 1, role, version());
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /**
   * Serves the endpoints on {@code port} (0: a free port) on every interface.
   *
   * @param live whether the role's loop still runs
   * @param ready whether the role is ready to work
   */
  public Observability serve(int port, BooleanSupplier live, BooleanSupplier ready)
      throws IOException {
    this.live = live;
    this.ready = ready;
    server = HttpServer.create(new InetSocketAddress(port), 0);
    server.createContext(
        "/metrics",
        exchange ->
            respond(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape()));
    server.createContext("/health/live", exchange -> health(exchange, this.live));
    server.createContext("/health/ready", exchange -> health(exchange, this.ready));
    server.setExecutor(
        Executors.newSingleThreadExecutor(
            r -> {
              Thread thread = new Thread(r, "evalfleet-metrics-http");
              thread.setDaemon(true);
              return thread;
            }));
    server.start();
    return this;
  }

  /** The port the endpoints are served on, or -1 when they are not. */
  public int port() {
    return server == null ? -1 : server.getAddress().getPort();
  }

  private static void health(HttpExchange exchange, BooleanSupplier check) throws IOException {
    boolean ok = check.getAsBoolean();
    respond(exchange, ok ? 200 : 503, "text/plain; charset=utf-8", ok ? "ok\n" : "unavailable\n");
  }

  private static void respond(HttpExchange exchange, int status, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", type);
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  private static String version() {
    String version = Observability.class.getPackage().getImplementationVersion();
    return version == null ? "dev" : version;
  }

  @Override
  public void close() {
    if (server != null) {
      server.stop(0);
      ((ExecutorService) server.getExecutor()).shutdownNow();
    }
    gc.close();
    registry.close();
  }
}
