package io.evalfleet.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class FleetConfigTest {
  @Test
  void defaultsAreValid() {
    FleetConfig config = FleetConfig.defaults();
    assertThat(config.get(FleetConfig.SHARD_ROWS)).isEqualTo(256);
    assertThat(config.get(FleetConfig.RUN_DEADLINE)).isEqualTo(Duration.ofMinutes(15));
    assertThat(config.kafkaClientProperties()).containsEntry("bootstrap.servers", "localhost:9092");
  }

  @Test
  void reportsEveryBadKeyAtOnce() {
    assertThatThrownBy(
            () ->
                FleetConfig.of(
                    Map.of(
                        "dispatcher.shard-rows", "zero",
                        "worker.concurrency", "-1",
                        "dispatcher.run-deadline", "10 minutes",
                        "dispatcher.shard-row", "5")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("dispatcher.shard-rows must be a positive integer, got 'zero'")
        .hasMessageContaining("worker.concurrency must be a positive integer, got '-1'")
        .hasMessageContaining("dispatcher.run-deadline must be a positive ISO-8601 duration")
        .hasMessageContaining("unknown setting 'dispatcher.shard-row'");
  }

  @Test
  void theDefaultWorkerIdIsAGroupMemberIdKafkaAccepts() {
    String id = FleetConfig.defaults().get(FleetConfig.WORKER_ID);
    assertThat(id).endsWith("-" + ProcessHandle.current().pid());
    // Kafka's own check of group.instance.id, which refused the old default (pid@host) at start.
    org.apache.kafka.common.requests.JoinGroupRequest.validateGroupInstanceId(id);
  }

  @Test
  void aWorkerIdKafkaWouldRefuseIsRefusedAtStartNamingTheRule() {
    assertThatThrownBy(() -> FleetConfig.of(Map.of("worker.id", "26150@vm")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(
            "worker.id must be at most 249 ASCII letters, digits, '.', '_' or '-'")
        .hasMessageContaining("got '26150@vm'");
  }

  @Test
  void overridesBeatEnvironmentWhichBeatsTheFile() {
    Properties file = new Properties();
    file.setProperty("dispatcher.shard-rows", "10");
    file.setProperty("worker.batch-size", "8");
    file.setProperty("kafka.security.protocol", "SASL_SSL");
    FleetConfig config =
        FleetConfig.load(
            file,
            Map.of("EVALFLEET_DISPATCHER_SHARD_ROWS", "20", "EVALFLEET_WORKER_BATCH_SIZE", "16"),
            Map.of("worker.batch-size", "4"));
    assertThat(config.get(FleetConfig.SHARD_ROWS)).isEqualTo(20);
    assertThat(config.get(FleetConfig.BATCH_SIZE)).isEqualTo(4);
    assertThat(config.kafkaClientProperties()).containsEntry("security.protocol", "SASL_SSL");
  }

  @Test
  void referenceDocumentsEveryKey() {
    String doc = FleetConfig.markdownReference();
    FleetConfig.SETTINGS.forEach(s -> assertThat(doc).contains("`" + s.key() + "`", s.envName()));
  }

  @Test
  void effectiveSettingsGiveAnEqualConfigurationInAnotherProcess() {
    FleetConfig config =
        FleetConfig.of(
            Map.of(
                "worker.drain-timeout",
                "PT7S",
                "worker.max-deliveries",
                "5",
                "kafka.security.protocol",
                "SASL_SSL",
                "kafka.bootstrap.servers",
                "b1:9093"));
    FleetConfig copy = FleetConfig.of(config.settings());
    assertThat(copy.settings()).isEqualTo(config.settings());
    assertThat(copy.get(FleetConfig.DRAIN_TIMEOUT)).isEqualTo(java.time.Duration.ofSeconds(7));
    assertThat(copy.get(FleetConfig.MAX_DELIVERIES)).isEqualTo(5);
    assertThat(copy.kafkaClientProperties())
        .containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("bootstrap.servers", "b1:9093");
  }

  @Test
  void printableSettingsRedactEverySecretOfKafkaAndHadoopAndNothingElse() {
    Map<String, String> secrets =
        Map.of(
            "hadoop.fs.s3a.secret.key", "s3-secret",
            "hadoop.fs.s3a.access.key", "AKIAEXAMPLE",
            "hadoop.fs.s3a.session.token", "session-token",
            "hadoop.fs.s3a.bucket.models.secret.key", "bucket-secret",
            "hadoop.fs.azure.account.key.store.blob.core.windows.net", "azure-key",
            "kafka.sasl.jaas.config", "PlainLoginModule required password=\"kafka-secret\";",
            "kafka.ssl.key.password", "key-password",
            "kafka.ssl.keystore.password", "keystore-password");
    Map<String, String> plain =
        Map.of(
            "hadoop.fs.s3a.endpoint", "http://minio:9000",
            "hadoop.fs.s3a.path.style.access", "true",
            "hadoop.dfs.web.authentication.kerberos.keytab", "/etc/security/fleet.keytab",
            "kafka.security.protocol", "SASL_SSL",
            "kafka.key.serializer", "org.apache.kafka.common.serialization.StringSerializer",
            "notifier.webhook-secret-file", "/run/secrets/webhook");
    Map<String, String> raw = new java.util.HashMap<>(secrets);
    raw.putAll(plain);
    Map<String, String> shown = FleetConfig.of(raw).printableSettings();

    secrets.keySet().forEach(k -> assertThat(shown).containsEntry(k, FleetConfig.REDACTED));
    plain.forEach((k, v) -> assertThat(shown).containsEntry(k, v));
    assertThat(String.join("\n", shown.values()))
        .doesNotContain("s3-secret", "session-token", "bucket-secret", "kafka-secret", "azure-key");
    assertThat(FleetConfig.of(raw).settings())
        .as("the settings a role passes on privately keep the secrets")
        .containsEntry("hadoop.fs.s3a.secret.key", "s3-secret");
  }
}
