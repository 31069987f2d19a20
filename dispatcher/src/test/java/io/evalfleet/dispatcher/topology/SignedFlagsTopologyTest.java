package io.evalfleet.dispatcher.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.signing.FlagKeys;
import io.evalfleet.common.signing.FlagSigner;
import io.evalfleet.common.signing.FlagVerifier;
import io.evalfleet.common.signing.SignedFlag;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;

/**
 * The topology's tests again with a flag signing key configured (every flag they read must still
 * parse), and what signing adds: every flag record carries a signature over its exact value bytes
 * that the key's public half verifies, and a version's flag is archived signed beside its lockfile.
 */
class SignedFlagsTopologyTest extends DispatcherTopologyTest {
  KeyPair pair;

  @Override
  Map<String, String> moreSettings() throws Exception {
    pair = FlagKeys.generate();
    FlagKeys.write(pair, dir.resolve("flags.key"), dir.resolve("flags.pub.pem"));
    return Map.of(FleetConfig.FLAG_SIGNING_KEY.key(), dir.resolve("flags.key").toString());
  }

  FlagVerifier verifier() {
    return new FlagVerifier(List.of(pair.getPublic()));
  }

  @Test
  void aDecidedVersionsFlagIsSignedAndArchivedSignedBesideItsLockfile() throws Exception {
    stage(event("m", "v1"));
    scoreAll("v1", row -> 0.9, new ArrayList<>());

    TestRecord<String, byte[]> record = flags.readRecord();
    String keyId = FlagKeys.keyId(pair.getPublic());
    assertThat(verifier().verify(record.value(), record.headers()))
        .isEqualTo(new FlagVerifier.Verified(keyId));
    assertThat(
            Base64.getDecoder()
                .decode(record.headers().lastHeader(FlagSigner.SIGNATURE_HEADER).value()))
        .hasSize(64);
    assertThat(
            new String(
                record.headers().lastHeader(FlagSigner.KEY_HEADER).value(),
                StandardCharsets.US_ASCII))
        .isEqualTo(keyId);
    DriftFlag flag = Json.read(record.value(), DriftFlag.class);
    assertThat(flag.signingKeyId()).isEqualTo(keyId);
    assertThat(flag.flag()).isEqualTo(Flag.WARN);

    SignedFlag archived = archive.signedFlag("m", "v1").orElseThrow();
    assertThat(archived.value()).isEqualTo(record.value());
    assertThat(verifier().verify(archived).verified()).isTrue();
  }

  @Test
  void aRejectedEventsErrorFlagIsSignedToo() throws Exception {
    staged.pipeInput("m", "{\"event_id\":\"e1\",\"model\":\"m\"}".getBytes());

    TestRecord<String, byte[]> record = flags.readRecord();
    assertThat(Json.read(record.value(), DriftFlag.class).flag()).isEqualTo(Flag.ERROR);
    assertThat(verifier().verify(record.value(), record.headers()).verified()).isTrue();
    assertThat(archive.signedFlag("m", "e1")).isEmpty();
  }
}
