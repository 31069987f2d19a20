package io.evalfleet.common.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.signing.FlagVerifier.Reason;
import io.evalfleet.common.signing.FlagVerifier.Rejected;
import io.evalfleet.common.signing.FlagVerifier.Verified;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FlagSigningTest {
  @TempDir Path dir;

  private static byte[] flag(String keyId, Flag verdict, String version) {
    return Json.write(
        DriftFlag.builder()
            .runId("run-1")
            .eventId("event-" + version)
            .model("m")
            .version(version)
            .flag(verdict)
            .signingKeyId(keyId)
            .build());
  }

  private static Headers headers(SignedFlag signed) {
    return FlagSigner.headers(signed);
  }

  private FlagSigner signer() throws Exception {
    KeyPair pair = FlagKeys.generate();
    FlagKeys.write(pair, dir.resolve("k.pem"), dir.resolve("k.pub.pem"));
    return FlagSigner.of(dir.resolve("k.pem"));
  }

  @Test
  void aSignedFlagVerifiesWithItsKeyId() throws Exception {
    FlagSigner signer = signer();
    FlagVerifier verifier =
        new FlagVerifier(List.of(FlagKeys.readPublicKey(dir.resolve("k.pub.pem"))));
    SignedFlag signed = signer.sign(flag(signer.keyId(), Flag.GREEN, "v1"));

    assertThat(verifier.verify(signed.value(), headers(signed)))
        .isEqualTo(new Verified(signer.keyId()));
    assertThat(signed.signature()).hasSize(64);
    assertThat(SignedFlag.of(signed.archived())).isEqualTo(signed);
  }

  @Test
  void oneFlippedByteOfTheValueIsRejected() throws Exception {
    FlagSigner signer = signer();
    FlagVerifier verifier =
        new FlagVerifier(List.of(FlagKeys.readPublicKey(dir.resolve("k.pub.pem"))));
    SignedFlag signed = signer.sign(flag(signer.keyId(), Flag.RED, "v1"));
    byte[] altered = signed.value().clone();
    altered[altered.length / 2] ^= 1;

    assertThat(verifier.verify(altered, headers(signed)))
        .isInstanceOfSatisfying(
            Rejected.class, r -> assertThat(r.reason()).isEqualTo(Reason.BAD_SIGNATURE));
  }

  @Test
  void aFlagSignedByAnotherKeyIsRejectedAsUnknownKey() throws Exception {
    FlagSigner trusted = signer();
    FlagVerifier verifier =
        new FlagVerifier(List.of(FlagKeys.readPublicKey(dir.resolve("k.pub.pem"))));
    FlagSigner other = new FlagSigner(FlagKeys.generate());
    SignedFlag forged = other.sign(flag(other.keyId(), Flag.GREEN, "v1"));

    assertThat(other.keyId()).isNotEqualTo(trusted.keyId());
    assertThat(verifier.verify(forged.value(), headers(forged)))
        .isInstanceOfSatisfying(
            Rejected.class, r -> assertThat(r.reason()).isEqualTo(Reason.UNKNOWN_KEY));
  }

  @Test
  void aForgedFlagWithAnotherFlagsValidHeadersIsRejected() throws Exception {
    FlagSigner signer = signer();
    FlagVerifier verifier =
        new FlagVerifier(List.of(FlagKeys.readPublicKey(dir.resolve("k.pub.pem"))));
    SignedFlag genuineRed = signer.sign(flag(signer.keyId(), Flag.RED, "v1"));
    byte[] forgedGreen = flag(signer.keyId(), Flag.GREEN, "v1");

    assertThat(verifier.verify(forgedGreen, headers(genuineRed)))
        .isInstanceOfSatisfying(
            Rejected.class, r -> assertThat(r.reason()).isEqualTo(Reason.BAD_SIGNATURE));
  }

  @Test
  void anUnsignedFlagIsRejected() throws Exception {
    signer();
    FlagVerifier verifier =
        new FlagVerifier(List.of(FlagKeys.readPublicKey(dir.resolve("k.pub.pem"))));

    assertThat(verifier.verify(flag(null, Flag.GREEN, "v1"), new RecordHeaders()))
        .isInstanceOfSatisfying(
            Rejected.class, r -> assertThat(r.reason()).isEqualTo(Reason.UNSIGNED));
  }

  @Test
  void aHeaderKeyIdOtherThanTheFlagsOwnIsRejected() throws Exception {
    FlagSigner signer = signer();
    FlagVerifier verifier =
        new FlagVerifier(List.of(FlagKeys.readPublicKey(dir.resolve("k.pub.pem"))));
    SignedFlag signed = signer.sign(flag("0123456789abcdef", Flag.GREEN, "v1"));

    assertThat(verifier.verify(signed.value(), headers(signed)))
        .isInstanceOfSatisfying(
            Rejected.class, r -> assertThat(r.reason()).isEqualTo(Reason.KEY_MISMATCH));
  }

  @Test
  void keyIdIsTheFirst16HexOfSha256OfTheSubjectPublicKeyInfo() throws Exception {
    KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    byte[] der = pair.getPublic().getEncoded();
    assertThat(der).hasSize(44); // 12-byte SPKI prefix and the 32-byte key
    String expected =
        HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(der)).substring(0, 16);

    assertThat(FlagKeys.keyId(pair.getPublic())).isEqualTo(expected).hasSize(16);
  }

  @Test
  void theDispatcherDerivesThePublicKeyOfItsPrivateKey() throws Exception {
    KeyPair pair = FlagKeys.generate();
    FlagKeys.write(pair, dir.resolve("k.pem"), dir.resolve("k.pub.pem"));

    assertThat(FlagKeys.readPrivateKey(dir.resolve("k.pem")).getPublic().getEncoded())
        .isEqualTo(pair.getPublic().getEncoded());
    assertThat(Files.getPosixFilePermissions(dir.resolve("k.pem")))
        .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
  }

  @Test
  void rotationTrustsKeysOfADirectory() throws Exception {
    KeyPair old = FlagKeys.generate();
    KeyPair current = FlagKeys.generate();
    Path keys = Files.createDirectories(dir.resolve("trusted"));
    FlagKeys.write(old, dir.resolve("old.key"), keys.resolve("old.pem"));
    FlagKeys.write(current, dir.resolve("current.key"), keys.resolve("current.pem"));
    FlagVerifier verifier = new FlagVerifier(FlagKeys.readPublicKeys(keys.toString()));

    for (KeyPair pair : List.of(old, current)) {
      FlagSigner signer = new FlagSigner(pair);
      SignedFlag signed = signer.sign(flag(signer.keyId(), Flag.GREEN, "v"));
      assertThat(verifier.verify(signed).verified()).isTrue();
    }
  }

  @Test
  void opensslKeysLoadAndVerify() throws Exception {
    Assumptions.assumeTrue(
        run("openssl", "version"), "openssl is not installed: its PEM keys are not checked");
    Path key = dir.resolve("openssl.pem");
    Path pub = dir.resolve("openssl.pub.pem");
    assertThat(run("openssl", "genpkey", "-algorithm", "ed25519", "-out", key.toString())).isTrue();
    assertThat(run("openssl", "pkey", "-in", key.toString(), "-pubout", "-out", pub.toString()))
        .isTrue();

    FlagSigner signer = FlagSigner.of(key);
    PublicKey publicKey = FlagKeys.readPublicKey(pub);
    SignedFlag signed = signer.sign(flag(signer.keyId(), Flag.GREEN, "v1"));

    assertThat(signer.keyId()).isEqualTo(FlagKeys.keyId(publicKey));
    assertThat(new FlagVerifier(List.of(publicKey)).verify(signed.value(), headers(signed)))
        .isEqualTo(new Verified(signer.keyId()));
  }

  @Test
  void keyFileErrorsNameTheFileAndHoldNoKeyBytes() throws Exception {
    Path missing = dir.resolve("missing.pem");
    assertThatThrownBy(() -> FlagSigner.of(missing))
        .isInstanceOf(FlagKeys.KeyFileException.class)
        .hasMessageContaining(missing.toString())
        .hasMessageContaining("does not exist");

    Path rsa = dir.resolve("rsa.pem");
    var rsaKey = KeyPairGenerator.getInstance("RSA").generateKeyPair().getPrivate().getEncoded();
    String pem =
        "-----BEGIN PRIVATE KEY-----\n"
            + java.util.Base64.getMimeEncoder().encodeToString(rsaKey)
            + "\n-----END PRIVATE KEY-----\n";
    Files.writeString(rsa, pem);
    assertThatThrownBy(() -> FlagSigner.of(rsa))
        .isInstanceOf(FlagKeys.KeyFileException.class)
        .hasMessageContaining(rsa.toString())
        .hasMessageContaining("not an Ed25519 private key")
        .hasMessageNotContaining(pem.substring(28, 60));

    Path garbage = dir.resolve("garbage.pem");
    Files.write(garbage, "hello".getBytes(StandardCharsets.US_ASCII));
    assertThatThrownBy(() -> FlagKeys.readPublicKey(garbage))
        .isInstanceOf(FlagKeys.KeyFileException.class)
        .hasMessageContaining(garbage.toString());
  }

  private static boolean run(String... command) throws Exception {
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      process.getInputStream().readAllBytes();
      return process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0;
    } catch (java.io.IOException e) {
      return false;
    }
  }
}
