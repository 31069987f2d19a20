package io.evalfleet.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.failure.FailureKind;
import io.evalfleet.common.failure.Failures;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Kafka client that cannot be made from its settings (no broker is contacted to make one) is the
 * settings' mistake: one line naming Kafka's reason and the settings to check, never a secret, and
 * never "cannot reach Kafka" nor a bug.
 */
class KafkaClientSettingsTest {
  @TempDir Path dir;

  private static Throwable making(Map<String, String> settings) {
    Map<String, String> all = new HashMap<>(settings);
    all.put("kafka.bootstrap.servers", "localhost:9");
    return catchThrowable(() -> KafkaClients.reader(FleetConfig.of(all), "test").close());
  }

  @Test
  void aJaasLineWithoutItsSemicolonNamesTheJaasSetting() {
    Throwable failure =
        making(
            Map.of(
                "kafka.security.protocol", "SASL_SSL",
                "kafka.sasl.mechanism", "SCRAM-SHA-512",
                "kafka.sasl.jaas.config",
                    "org.apache.kafka.common.security.scram.ScramLoginModule required"
                        + " username=\"u\" password=\"hunter2-secret\""));
    assertThat(Failures.kindOf(failure)).isEqualTo(FailureKind.BAD_INPUT);
    assertThat(KafkaClients.settingsProblem(failure).orElseThrow())
        .startsWith("cannot make the Kafka client (kafka consumer) from its settings")
        .contains("semi-colon")
        .contains("check kafka.sasl.jaas.config")
        .doesNotContain("hunter2-secret");
  }

  @Test
  void aMistypedTruststoreNamesTheFileAndTheSslSettings() {
    Path missing = dir.resolve("trustore.p12");
    Throwable failure =
        making(
            Map.of(
                "kafka.security.protocol", "SSL",
                "kafka.ssl.truststore.type", "PKCS12",
                "kafka.ssl.truststore.location", missing.toString(),
                "kafka.ssl.truststore.password", "tt-secret-1"));
    assertThat(Failures.kindOf(failure)).isEqualTo(FailureKind.BAD_INPUT);
    assertThat(KafkaClients.settingsProblem(failure).orElseThrow())
        .contains(missing.toString())
        .contains("kafka.ssl.truststore.*")
        .doesNotContain("tt-secret-1");
  }

  @Test
  void aWrongTruststorePasswordIsTheSettingsNotAnOutage() throws Exception {
    Path truststore = dir.resolve("truststore.p12");
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    try (OutputStream out = Files.newOutputStream(truststore)) {
      store.store(out, "right-password".toCharArray());
    }
    Throwable failure =
        making(
            Map.of(
                "kafka.security.protocol", "SSL",
                "kafka.ssl.truststore.type", "PKCS12",
                "kafka.ssl.truststore.location", truststore.toString(),
                "kafka.ssl.truststore.password", "wrong-password"));
    assertThat(Failures.kindOf(failure))
        .as("an I/O failure under it, but no retry helps")
        .isEqualTo(FailureKind.BAD_INPUT);
    assertThat(KafkaClients.settingsProblem(failure).orElseThrow())
        .contains(truststore.toString())
        .contains("kafka.ssl.truststore.*")
        .doesNotContain("wrong-password");
  }

  @Test
  void otherFailuresAreNotSettingsProblems() {
    assertThat(KafkaClients.settingsProblem(new IllegalStateException("x"))).isEmpty();
  }
}
