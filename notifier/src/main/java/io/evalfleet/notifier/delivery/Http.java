package io.evalfleet.notifier.delivery;

import com.fasterxml.jackson.databind.JsonNode;
import io.evalfleet.common.contract.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * One HTTP exchange with a review target on the JDK's client, its answer sorted by what a retry can
 * do: 2xx is success; 429, 5xx, connection failures and GitHub's rate-limit 403 (with {@code
 * x-ratelimit-remaining: 0} or a {@code Retry-After}) are retryable, with the wait the server asked
 * for; any other status is permanent. Thread-safe.
 */
final class Http {
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(20);
  private static final int MAX_BODY_IN_MESSAGE = 300;

  private final HttpClient client;

  Http() {
    this.client =
        HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(10))
            .followRedirects(HttpClient.Redirect.NORMAL)
            .build();
  }

  /** Sends the request; returns the body of a 2xx answer. */
  String send(String target, HttpRequest request) throws DeliveryException, InterruptedException {
    HttpResponse<String> response;
    try {
      response = client.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new DeliveryException(
          target + ": " + request.method() + " " + request.uri() + " failed: " + e, true, null, e);
    }
    int status = response.statusCode();
    if (status >= 200 && status < 300) {
      return response.body();
    }
    Duration retryAfter =
        response.headers().firstValue("Retry-After").map(Http::retryAfter).orElse(null);
    // GitHub answers a spent rate limit with 403 (not 429): remaining 0 and when it resets, or a
    // Retry-After.
    boolean rateLimited =
        status == 403
            && (retryAfter != null
                || response
                    .headers()
                    .firstValue("x-ratelimit-remaining")
                    .filter("0"::equals)
                    .isPresent());
    if (rateLimited && retryAfter == null) {
      retryAfter =
          response
              .headers()
              .firstValue("x-ratelimit-reset")
              .map(Http::untilEpochSecond)
              .orElse(null);
    }
    boolean retryable = status == 429 || status >= 500 || rateLimited;
    String body = response.body() == null ? "" : response.body().strip();
    if (body.length() > MAX_BODY_IN_MESSAGE) {
      body = body.substring(0, MAX_BODY_IN_MESSAGE) + "…";
    }
    throw new DeliveryException(
        target
            + ": "
            + request.method()
            + " "
            + request.uri()
            + " answered "
            + status
            + (body.isEmpty() ? "" : ": " + body),
        retryable,
        retryAfter,
        null);
  }

  JsonNode sendJson(String target, HttpRequest request)
      throws DeliveryException, InterruptedException {
    String body = send(target, request);
    try {
      return Json.mapper().readTree(body == null || body.isBlank() ? "null" : body);
    } catch (IOException e) {
      throw DeliveryException.permanent(
          target
              + ": "
              + request.uri()
              + " answered with something that is not JSON: "
              + e.getMessage());
    }
  }

  static HttpRequest.Builder request(URI uri) {
    return HttpRequest.newBuilder(uri)
        .timeout(REQUEST_TIMEOUT)
        .header("User-Agent", "evalfleet-notifier");
  }

  static HttpRequest.BodyPublisher json(Object body) {
    return HttpRequest.BodyPublishers.ofByteArray(Json.write(body));
  }

  /** The wait until {@code x-ratelimit-reset} (epoch seconds); null when it is not a number. */
  static Duration untilEpochSecond(String value) {
    try {
      Duration wait =
          Duration.between(Instant.now(), Instant.ofEpochSecond(Long.parseLong(value.strip())));
      return wait.isNegative() ? Duration.ZERO : wait;
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** {@code Retry-After} as seconds or as an HTTP date; null when it is neither. */
  static Duration retryAfter(String value) {
    try {
      return Duration.ofSeconds(Math.max(0, Long.parseLong(value.strip())));
    } catch (NumberFormatException e) {
      try {
        Duration wait =
            Duration.between(
                ZonedDateTime.now(),
                ZonedDateTime.parse(value.strip(), DateTimeFormatter.RFC_1123_DATE_TIME));
        return wait.isNegative() ? Duration.ZERO : wait;
      } catch (DateTimeParseException notADate) {
        return null;
      }
    }
  }
}
