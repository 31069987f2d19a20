package io.evalfleet.common.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class S3aKeysTest {
  @Test
  void aMistypedKeyIsReportedWithTheNearestKnownOne() {
    assertThat(S3aKeys.unknown(Map.of("fs.s3a.endpont", "http://127.0.0.1:9000")))
        .containsExactly(
            "hadoop.fs.s3a.endpont is no S3A setting, and Hadoop ignores it"
                + " (did you mean hadoop.fs.s3a.endpoint?)");
    assertThat(S3aKeys.unknown(Map.of("fs.s3a.bucket.models.secret.kye", "x")))
        .singleElement()
        .asString()
        .contains("(did you mean hadoop.fs.s3a.bucket.models.secret.key?)");
  }

  @Test
  void knownKeysPerBucketKeysAndOtherFileSystemsPass() {
    assertThat(
            S3aKeys.unknown(
                Map.of(
                    "fs.s3a.endpoint", "http://127.0.0.1:9000",
                    "fs.s3a.endpoint.region", "us-east-1",
                    "fs.s3a.path.style.access", "true",
                    "fs.s3a.input.stream.type", "classic",
                    "fs.s3a.change.detection.version.required", "false",
                    "fs.s3a.bucket.models.secret.key", "x",
                    "fs.s3a.impl.disable.cache", "true",
                    "dfs.nameservices", "evalfleet",
                    "fs.gs.project.id", "p")))
        .isEmpty();
  }
}
