package io.evalfleet.common.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HadoopSettingsTest {
  @TempDir Path dir;

  @Test
  void s3aTakesItsOwnKeyPairFirstThenTheStandardAwsChain() {
    Configuration conf = HadoopSettings.of(Map.of(), Map.of());
    assertThat(conf.getTrimmedStrings("fs.s3a.aws.credentials.provider"))
        .containsExactly(
            "org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider",
            "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
            StandardAwsCredentials.class.getName());
    assertThat(conf.get("fs.s3a.attempts.maximum")).isEqualTo("2");
  }

  @Test
  void s3aBuildsTheFleetsCredentialChain() throws Exception {
    Configuration conf = HadoopSettings.of(Map.of(), Map.of());
    try (var providers =
        org.apache.hadoop.fs.s3a.auth.CredentialProviderListFactory.createAWSCredentialProviderList(
            new java.net.URI("s3a://bucket1"), conf)) {
      assertThat(providers.getProviders())
          .extracting(p -> p.getClass().getSimpleName())
          .containsExactly(
              "TemporaryAWSCredentialsProvider",
              "SimpleAWSCredentialsProvider",
              "StandardAwsCredentials");
    }
  }

  @Test
  void siteFilesInHadoopConfDirComeUnderTheSettingsAndOverTheFleetsDefaults() throws Exception {
    Files.writeString(
        dir.resolve("core-site.xml"),
        """
        <configuration>
          <property><name>fs.defaultFS</name><value>hdfs://namenode:8020</value></property>
          <property><name>fs.s3a.attempts.maximum</name><value>7</value></property>
          <property><name>fs.s3a.endpoint</name><value>http://site:9000</value></property>
        </configuration>
        """);
    Files.writeString(
        dir.resolve("hdfs-site.xml"),
        """
        <configuration>
          <property><name>dfs.replication</name><value>2</value></property>
        </configuration>
        """);
    Configuration conf =
        HadoopSettings.of(
            Map.of("fs.s3a.endpoint", "http://setting:9000"),
            Map.of(HadoopSettings.CONF_DIR_ENV, dir.toString()));
    assertThat(conf.get("fs.defaultFS")).isEqualTo("hdfs://namenode:8020");
    assertThat(conf.get("dfs.replication")).isEqualTo("2");
    assertThat(conf.get("fs.s3a.attempts.maximum"))
        .as("a site file wins over the fleet's default")
        .isEqualTo("7");
    assertThat(conf.get("fs.s3a.endpoint"))
        .as("a setting wins over a site file")
        .isEqualTo("http://setting:9000");
    assertThat(conf.get("fs.s3a.retry.limit"))
        .as("the fleet's default where no site file set it")
        .isEqualTo("2");
  }

  @Test
  void aHadoopConfDirThatIsNoFolderIsNamed() {
    assertThatThrownBy(
            () ->
                HadoopSettings.of(
                    Map.of(), Map.of(HadoopSettings.CONF_DIR_ENV, dir.resolve("nope").toString())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("HADOOP_CONF_DIR")
        .hasMessageContaining("nope");
  }
}
