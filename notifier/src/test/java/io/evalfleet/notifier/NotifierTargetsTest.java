package io.evalfleet.notifier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.notifier.delivery.ReviewTarget;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NotifierTargetsTest {
  @TempDir Path dir;

  @Test
  void noTokenAndNoWebhookMeansReportsOnly() {
    assertThat(NotifierRole.targets(FleetConfig.defaults(), Map.of())).isEmpty();
  }

  @Test
  void targetsComeFromSettingsSecretFilesAndTheEnvironment() throws Exception {
    Path secret = Files.writeString(dir.resolve("secret"), "s3cret\n");
    FleetConfig config =
        FleetConfig.defaults()
            .with(
                Map.of(
                    "notifier.webhook-url",
                    "https://hooks.example/x",
                    "notifier.webhook-secret-file",
                    secret.toString()));
    assertThat(NotifierRole.targets(config, Map.of("GITLAB_TOKEN", "glpat")))
        .extracting(ReviewTarget::name)
        .containsExactly("webhook", "gitlab");
  }

  @Test
  void everyProblemIsListedAtOnce() {
    FleetConfig config =
        FleetConfig.defaults()
            .with(
                Map.of(
                    "notifier.webhook-url",
                    "https://hooks.example/x",
                    "notifier.github-token-file",
                    dir.resolve("missing-token").toString()));
    assertThatThrownBy(() -> NotifierRole.targets(config, Map.of()))
        .hasMessageContaining("no secret to sign with")
        .hasMessageContaining("missing-token");
  }
}
