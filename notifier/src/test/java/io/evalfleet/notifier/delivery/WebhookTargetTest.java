package io.evalfleet.notifier.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.notifier.review.Review;
import io.evalfleet.notifier.testing.FakeReviewServer;
import io.evalfleet.notifier.testing.Flags;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class WebhookTargetTest {
  @Test
  void signatureIsHmacSha256AsRfc4231GivesIt() {
    // RFC 4231, test case 2
    assertThat(
            WebhookTarget.signature(
                "Jefe".getBytes(StandardCharsets.US_ASCII),
                "what do ya want for nothing?".getBytes(StandardCharsets.US_ASCII)))
        .isEqualTo("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  }

  @Test
  void postsTheFlagAndCommentSignedOverTheExactBody() throws Exception {
    try (FakeReviewServer server = new FakeReviewServer("unused")) {
      var flag = Flags.flag("m", "v1", Flag.RED, null);
      new WebhookTarget(server.webhook(), "s3cret")
          .deliver(new Review(flag, "the comment", "file:/r", "https://r"));
      var request = server.received("/hook").get(0);
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec("s3cret".getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      String expected =
          "sha256="
              + HexFormat.of()
                  .formatHex(mac.doFinal(request.body().getBytes(StandardCharsets.UTF_8)));
      assertThat(request.headers().get("x-evalfleet-signature-256")).isEqualTo(expected);
      assertThat(request.headers().get("x-evalfleet-delivery")).isEqualTo(flag.runId());
      JsonNode body = Json.mapper().readTree(request.body());
      assertThat(body.path("flag").path("flag").asText()).isEqualTo("RED");
      assertThat(body.path("markdown").asText()).isEqualTo("the comment");
      assertThat(body.path("report").asText()).isEqualTo("https://r");
    }
  }
}
