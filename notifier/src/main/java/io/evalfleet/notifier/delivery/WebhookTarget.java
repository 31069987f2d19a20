package io.evalfleet.notifier.delivery;

import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.SchemaVersion;
import io.evalfleet.notifier.review.Review;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Every review, POSTed as JSON to one URL and signed: {@value #SIGNATURE} is {@code sha256=} and
 * the hex HMAC-SHA256 of the exact body under the shared secret (as GitHub signs its webhooks),
 * {@value #DELIVERY} is the same for every delivery of one flag (its run id), so a receiver can
 * drop repeats. Thread-safe.
 */
public final class WebhookTarget implements ReviewTarget {
  public static final String SIGNATURE = "X-Evalfleet-Signature-256";
  public static final String DELIVERY = "X-Evalfleet-Delivery";
  public static final String EVENT = "X-Evalfleet-Event";

  /** The body: the flag, the comment and the report's address. */
  public record Payload(
      int schemaVersion, String deliveryId, DriftFlag flag, String markdown, String report) {}

  private final URI url;
  private final byte[] secret;
  private final Http http = new Http();

  public WebhookTarget(URI url, String secret) {
    this.url = url;
    this.secret = secret.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public String name() {
    return "webhook";
  }

  @Override
  public boolean accepts(Review review) {
    return true;
  }

  @Override
  public void deliver(Review review) throws DeliveryException, InterruptedException {
    String delivery = review.flag().runId();
    byte[] body =
        Json.write(
            new Payload(
                SchemaVersion.CURRENT,
                delivery,
                review.flag(),
                review.markdown(),
                review.reportLink()));
    http.send(
        name(),
        Http.request(url)
            .header("Content-Type", "application/json")
            .header(SIGNATURE, signature(secret, body))
            .header(DELIVERY, delivery)
            .header(EVENT, "drift-flag")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build());
  }

  /** {@code sha256=} and the hex HMAC-SHA256 of {@code body} under {@code secret}. */
  public static String signature(byte[] secret, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA256 is not available in this JVM", e);
    }
  }
}
