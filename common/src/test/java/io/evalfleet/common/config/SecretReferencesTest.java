package io.evalfleet.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretReferencesTest {
  @TempDir Path dir;

  private static final String JAAS =
      "org.apache.kafka.common.security.scram.ScramLoginModule required"
          + " username=\"evalfleet-worker\" password=\"%s\";";

  @Test
  void anEnvironmentReferenceIsResolvedFromTheEnvironmentGiven() {
    FleetConfig config =
        FleetConfig.load(
            new Properties(),
            Map.of("KAFKA_TRUSTSTORE_PASSWORD", "truststore-pw-1"),
            Map.of("kafka.ssl.truststore.password", "${env:KAFKA_TRUSTSTORE_PASSWORD}"));
    assertThat(config.kafkaClientProperties())
        .containsEntry("ssl.truststore.password", "truststore-pw-1");
    assertThat(config.printableSettings())
        .containsEntry("kafka.ssl.truststore.password", "${env:KAFKA_TRUSTSTORE_PASSWORD}");
  }

  @Test
  void aDirectoryReferenceReadsOneFileOfAMountedSecretWhole() throws Exception {
    Path mounted = Files.createDirectories(dir.resolve("kafka"));
    Files.writeString(mounted.resolve("password"), "scram-pw-2");
    String written = JAAS.formatted("${dir:" + mounted + ":password}");
    FleetConfig config = FleetConfig.of(Map.of("kafka.sasl.jaas.config", written), Map.of());
    assertThat(config.kafkaClientProperties())
        .containsEntry("sasl.jaas.config", JAAS.formatted("scram-pw-2"));
    assertThat(config.printableSettings()).containsEntry("kafka.sasl.jaas.config", written);
    assertThat(config.printableSettings().toString()).doesNotContain("scram-pw-2");
  }

  @Test
  void aFileReferenceReadsOneKeyOfAPropertiesFile() throws Exception {
    Path file = dir.resolve("s3.properties");
    Files.writeString(file, "access=AKIAFLEET\nsecret=s3-secret-3\n");
    FleetConfig config =
        FleetConfig.of(
            Map.of(
                "hadoop.fs.s3a.access.key", "${file:" + file + ":access}",
                "hadoop.fs.s3a.secret.key", "${file:" + file + ":secret}"),
            Map.of());
    assertThat(config.hadoopProperties())
        .containsEntry("fs.s3a.access.key", "AKIAFLEET")
        .containsEntry("fs.s3a.secret.key", "s3-secret-3");
    assertThat(config.printableSettings())
        .containsEntry("hadoop.fs.s3a.secret.key", "${file:" + file + ":secret}");
  }

  @Test
  void theFleetsOwnSettingsTakeReferencesToo() {
    FleetConfig config =
        FleetConfig.of(Map.of("dispatcher.shard-rows", "${env:ROWS}"), Map.of("ROWS", "64"));
    assertThat(config.get(FleetConfig.SHARD_ROWS)).isEqualTo(64);
    assertThat(config.printableSettings()).containsEntry("dispatcher.shard-rows", "${env:ROWS}");
  }

  @Test
  void everyReferenceThatFindsNothingIsNamedWithItsSettingAtOnce() throws Exception {
    Path file = dir.resolve("s3.properties");
    Files.writeString(file, "access=AKIAFLEET\n");
    Path mounted = Files.createDirectories(dir.resolve("kafka"));
    assertThatThrownBy(
            () ->
                FleetConfig.of(
                    Map.of(
                        "kafka.ssl.truststore.password",
                        "${env:NOT_SET}",
                        "hadoop.fs.s3a.secret.key",
                        "${file:" + file + ":secret}",
                        "kafka.sasl.jaas.config",
                        JAAS.formatted("${dir:" + mounted + ":password}"),
                        "kafka.ssl.key.password",
                        "${vault:/kv/kafka:key}",
                        "hadoop.fs.s3a.session.token",
                        "${file:" + dir.resolve("none") + ":t}"),
                    Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(
            "setting 'kafka.ssl.truststore.password': reference '${env:NOT_SET}' found nothing:"
                + " no such environment variable")
        .hasMessageContaining(
            "setting 'hadoop.fs.s3a.secret.key': reference '${file:" + file + ":secret}'")
        .hasMessageContaining(
            "setting 'kafka.sasl.jaas.config': reference '${dir:" + mounted + ":password}'")
        .hasMessageContaining("unknown provider 'vault'")
        .hasMessageContaining("setting 'hadoop.fs.s3a.session.token': cannot resolve")
        .hasMessageNotContaining("AKIAFLEET");
  }

  @Test
  void aReferenceToAnEmptyValueIsRefused() {
    assertThatThrownBy(
            () ->
                FleetConfig.of(
                    Map.of("kafka.ssl.key.password", "${env:EMPTY}"), Map.of("EMPTY", "")))
        .hasMessageContaining(
            "setting 'kafka.ssl.key.password': reference '${env:EMPTY}' resolves to an empty value");
  }

  @Test
  void aChildProcessGetsResolvedValuesAndSoAnEqualConfigurationWithoutTheEnvironment() {
    FleetConfig parent =
        FleetConfig.of(
            Map.of("kafka.ssl.truststore.password", "${env:TRUST}"), Map.of("TRUST", "child-pw-4"));
    FleetConfig child = FleetConfig.of(parent.settings(), Map.of());
    assertThat(child.settings()).isEqualTo(parent.settings());
    assertThat(child.kafkaClientProperties())
        .containsEntry("ssl.truststore.password", "child-pw-4");
  }

  @Test
  void resolvedAndLiteralSecretsAreRegisteredForTheLogMask() throws Exception {
    Path mounted = Files.createDirectories(dir.resolve("kafka"));
    Files.writeString(mounted.resolve("password"), "mask-me-5");
    FleetConfig.of(
        Map.of(
            "kafka.sasl.jaas.config", JAAS.formatted("${dir:" + mounted + ":password}"),
            "hadoop.fs.s3a.secret.key", "literal-6",
            "kafka.client.id", "${env:CLIENT}"),
        Map.of("CLIENT", "not-a-secret-7"));
    assertThat(SecretValues.mask("a mask-me-5 b literal-6 c not-a-secret-7"))
        .isEqualTo("a <redacted> b <redacted> c not-a-secret-7");
  }

  @Test
  void literalSecretsAreToldApartFromReferences() {
    assertThat(FleetConfig.holdsLiteralSecret("hadoop.fs.s3a.secret.key", "abc")).isTrue();
    assertThat(FleetConfig.holdsLiteralSecret("hadoop.fs.s3a.secret.key", "${env:S3_SECRET}"))
        .isFalse();
    assertThat(FleetConfig.holdsLiteralSecret("hadoop.fs.s3a.secret.key", "x${env:S3_SECRET}"))
        .isTrue();
    assertThat(FleetConfig.holdsLiteralSecret("kafka.sasl.jaas.config", JAAS.formatted("pw")))
        .isTrue();
    assertThat(
            FleetConfig.holdsLiteralSecret(
                "kafka.sasl.jaas.config", JAAS.formatted("${env:KAFKA_PASSWORD}")))
        .isFalse();
    assertThat(FleetConfig.holdsLiteralSecret("kafka.security.protocol", "SASL_SSL")).isFalse();
    assertThat(FleetConfig.holdsLiteralSecret("notifier.github-token-file", "/run/token"))
        .isFalse();
  }

  @Test
  void kafkasOwnConfigProvidersAreRefusedSinceTheFleetResolvesReferences() {
    assertThatThrownBy(
            () ->
                FleetConfig.of(
                    Map.of(
                        "kafka.config.providers",
                        "file",
                        "kafka.config.providers.file.class",
                        "org.apache.kafka.common.config.provider.FileConfigProvider")))
        .hasMessageContaining("'kafka.config.providers': the fleet resolves");
  }
}
