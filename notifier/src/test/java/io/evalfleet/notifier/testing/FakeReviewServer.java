package io.evalfleet.notifier.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.evalfleet.common.contract.Json;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A local HTTP server that speaks the parts of the GitHub REST API (issue and commit comments) and
 * of the GitLab API (merge-request notes) that the notifier uses, with pagination and token checks,
 * keeping comments in memory; and a webhook receiver. Failures can be queued ({@link #failNext}) or
 * made permanent for one path prefix ({@link #failAlways}). Thread-safe.
 */
public final class FakeReviewServer implements AutoCloseable {
  /** One request as received. */
  public record Received(
      String method, String path, Map<String, String> headers, String body, long atNanos) {}

  /** A comment as stored: its thread (e.g. {@code github owner/repo#7}), id and body. */
  public record Comment(String thread, long id, String body) {}

  private record Failure(int status, Map<String, String> headers) {}

  private static final Pattern GITHUB_ISSUE =
      Pattern.compile("/github/repos/(.+)/issues/(\\d+)/comments");
  private static final Pattern GITHUB_ISSUE_COMMENT =
      Pattern.compile("/github/repos/(.+)/issues/comments/(\\d+)");
  private static final Pattern GITHUB_COMMIT =
      Pattern.compile("/github/repos/(.+)/commits/([0-9a-f]+)/comments");
  private static final Pattern GITHUB_COMMIT_COMMENT =
      Pattern.compile("/github/repos/(.+)/comments/(\\d+)");
  private static final Pattern GITLAB_NOTES =
      Pattern.compile("/gitlab/projects/([^/]+)/merge_requests/(\\d+)/notes");
  private static final Pattern GITLAB_NOTE =
      Pattern.compile("/gitlab/projects/([^/]+)/merge_requests/(\\d+)/notes/(\\d+)");

  private final HttpServer server;
  private final String token;
  private final Map<Long, Comment> comments = Collections.synchronizedMap(new LinkedHashMap<>());
  private final AtomicLong ids = new AtomicLong(1000);
  private final List<Received> received = Collections.synchronizedList(new ArrayList<>());
  private final Deque<Failure> failures = new ArrayDeque<>();
  private volatile String failingPrefix;
  private volatile int failingStatus;

  public FakeReviewServer(String token) throws IOException {
    this.token = token;
    this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::handle);
    server.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(4));
    server.start();
  }

  public URI github() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/github");
  }

  public URI gitlab() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/gitlab");
  }

  public URI webhook() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/hook");
  }

  /**
   * The next {@code times} requests are answered with {@code status} (and {@code Retry-After} when
   * not null).
   */
  public synchronized void failNext(int times, int status, String retryAfter) {
    failNext(times, status, retryAfter == null ? Map.of() : Map.of("Retry-After", retryAfter));
  }

  /** The next {@code times} requests are answered with {@code status} and these headers. */
  public synchronized void failNext(int times, int status, Map<String, String> headers) {
    for (int i = 0; i < times; i++) {
      failures.add(new Failure(status, headers));
    }
  }

  /**
   * Every request whose path starts with {@code prefix} is answered with {@code status}; null to
   * stop.
   */
  public void failAlways(String prefix, int status) {
    this.failingStatus = status;
    this.failingPrefix = prefix;
  }

  /** Stores a comment made by someone else (to fill pages). */
  public void seed(String thread, String body) {
    long id = ids.incrementAndGet();
    comments.put(id, new Comment(thread, id, body));
  }

  public List<Comment> comments(String thread) {
    synchronized (comments) {
      return comments.values().stream().filter(c -> c.thread().equals(thread)).toList();
    }
  }

  /** The comments of {@code thread} that contain {@code text}. */
  public List<Comment> commentsContaining(String thread, String text) {
    return comments(thread).stream().filter(c -> c.body().contains(text)).toList();
  }

  public List<Received> received() {
    synchronized (received) {
      return List.copyOf(received);
    }
  }

  public List<Received> received(String pathPrefix) {
    return received().stream().filter(r -> r.path().startsWith(pathPrefix)).toList();
  }

  private void handle(HttpExchange exchange) throws IOException {
    String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    String path = exchange.getRequestURI().getRawPath();
    Map<String, String> headers = new LinkedHashMap<>();
    exchange
        .getRequestHeaders()
        .forEach((k, v) -> headers.put(k.toLowerCase(java.util.Locale.ROOT), String.join(",", v)));
    received.add(new Received(exchange.getRequestMethod(), path, headers, body, System.nanoTime()));
    Failure failure;
    synchronized (this) {
      failure = failures.poll();
    }
    String prefix = failingPrefix;
    if (failure == null && prefix != null && path.startsWith(prefix)) {
      failure = new Failure(failingStatus, Map.of());
    }
    if (failure != null) {
      failure.headers().forEach((name, value) -> exchange.getResponseHeaders().add(name, value));
      respond(exchange, failure.status(), "{\"message\":\"injected failure\"}");
      return;
    }
    try {
      route(exchange, path, headers, body);
    } catch (RuntimeException e) {
      respond(exchange, 500, "{\"message\":\"" + e.getMessage() + "\"}");
    }
  }

  private void route(HttpExchange exchange, String path, Map<String, String> headers, String body)
      throws IOException {
    String method = exchange.getRequestMethod();
    if (path.equals("/hook")) {
      respond(exchange, 204, null);
      return;
    }
    if (path.startsWith("/github/") && !("Bearer " + token).equals(headers.get("authorization"))
        || path.startsWith("/gitlab/") && !token.equals(headers.get("private-token"))) {
      respond(exchange, 401, "{\"message\":\"Bad credentials\"}");
      return;
    }
    Matcher m;
    if ((m = GITHUB_ISSUE.matcher(path)).matches() || (m = GITHUB_COMMIT.matcher(path)).matches()) {
      String thread = "github " + m.group(1) + (path.contains("/issues/") ? "#" : "@") + m.group(2);
      listOrCreate(exchange, method, thread, body);
    } else if ((m = GITHUB_ISSUE_COMMENT.matcher(path)).matches()
        || (m = GITHUB_COMMIT_COMMENT.matcher(path)).matches()) {
      update(exchange, method, "PATCH", Long.parseLong(m.group(2)), body);
    } else if ((m = GITLAB_NOTE.matcher(path)).matches()) {
      update(exchange, method, "PUT", Long.parseLong(m.group(3)), body);
    } else if ((m = GITLAB_NOTES.matcher(path)).matches()) {
      String project = java.net.URLDecoder.decode(m.group(1), StandardCharsets.UTF_8);
      listOrCreate(exchange, method, "gitlab " + project + "#" + m.group(2), body);
    } else {
      respond(exchange, 404, "{\"message\":\"Not Found\"}");
    }
  }

  private void listOrCreate(HttpExchange exchange, String method, String thread, String body)
      throws IOException {
    if (method.equals("GET")) {
      Map<String, String> query = query(exchange.getRequestURI());
      int perPage = Integer.parseInt(query.getOrDefault("per_page", "30"));
      int page = Integer.parseInt(query.getOrDefault("page", "1"));
      List<Comment> all = comments(thread);
      ArrayNode array = Json.mapper().createArrayNode();
      all.stream()
          .skip((long) (page - 1) * perPage)
          .limit(perPage)
          .forEach(c -> array.add(node(c)));
      respond(exchange, 200, array.toString());
    } else if (method.equals("POST")) {
      long id = ids.incrementAndGet();
      Comment comment = new Comment(thread, id, bodyOf(body));
      comments.put(id, comment);
      respond(exchange, 201, node(comment).toString());
    } else {
      respond(exchange, 405, "{}");
    }
  }

  private void update(HttpExchange exchange, String method, String expected, long id, String body)
      throws IOException {
    Comment existing = comments.get(id);
    if (!method.equals(expected)) {
      respond(exchange, 405, "{}");
    } else if (existing == null) {
      respond(exchange, 404, "{\"message\":\"Not Found\"}");
    } else {
      Comment updated = new Comment(existing.thread(), id, bodyOf(body));
      comments.put(id, updated);
      respond(exchange, 200, node(updated).toString());
    }
  }

  private static String bodyOf(String json) {
    try {
      JsonNode node = Json.mapper().readTree(json);
      if (!node.path("body").isTextual()) {
        throw new IllegalArgumentException("no body in " + json);
      }
      return node.get("body").asText();
    } catch (IOException e) {
      throw new IllegalArgumentException("not JSON: " + json);
    }
  }

  private static ObjectNode node(Comment comment) {
    ObjectNode node = Json.mapper().createObjectNode();
    node.put("id", comment.id());
    node.put("body", comment.body());
    return node;
  }

  private static Map<String, String> query(URI uri) {
    Map<String, String> query = new LinkedHashMap<>();
    if (uri.getRawQuery() != null) {
      for (String pair : uri.getRawQuery().split("&")) {
        int eq = pair.indexOf('=');
        query.put(pair.substring(0, eq), pair.substring(eq + 1));
      }
    }
    return query;
  }

  private static void respond(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) {
      exchange.getResponseBody().write(bytes);
    }
    exchange.close();
  }

  @Override
  public void close() {
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
  }
}
