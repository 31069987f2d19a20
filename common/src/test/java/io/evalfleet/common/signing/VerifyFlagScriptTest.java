package io.evalfleet.common.signing;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Python recipe of docs/promotion.md ({@code docs/examples/verify_flag.py}), run with Debian's
 * python3 and python3-cryptography on flags archived as the dispatcher archives them: a genuine one
 * verifies under the key id Java computes, an altered one is rejected.
 */
class VerifyFlagScriptTest {
  static final String PYTHON = "/usr/bin/python3";
  static final Path SCRIPT = Path.of("..", "docs", "examples", "verify_flag.py");

  @TempDir Path dir;

  @BeforeAll
  static void needsPythonCryptography() throws Exception {
    Assumptions.assumeTrue(
        Files.isExecutable(Path.of(PYTHON)) && run(PYTHON, "-c", "import cryptography").exit == 0,
        "Debian's python3-cryptography is not installed: the Python recipe is not run");
  }

  record Ran(int exit, String output) {}

  static Ran run(String... command) throws Exception {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("%s finished", command[0]).isTrue();
    return new Ran(process.exitValue(), output);
  }

  Path archived(FlagSigner signer, byte[] value, SignedFlag signature, String name)
      throws Exception {
    SignedFlag flag = new SignedFlag(value, signature.keyId(), signature.signature());
    Path file = dir.resolve(name);
    Files.write(file, Json.write(flag.archived()));
    return file;
  }

  @Test
  void aGenuineFlagVerifiesAndAnAlteredOneIsRejected() throws Exception {
    KeyPair pair = FlagKeys.generate();
    FlagKeys.write(pair, dir.resolve("flags.key"), dir.resolve("flags.pub.pem"));
    FlagSigner signer = FlagSigner.of(dir.resolve("flags.key"));
    byte[] value =
        Json.write(
            DriftFlag.builder()
                .runId("run-1")
                .eventId("e-1")
                .model("m")
                .version("v2")
                .flag(Flag.RED)
                .signingKeyId(signer.keyId())
                .build());
    SignedFlag signed = signer.sign(value);
    String pub = dir.resolve("flags.pub.pem").toString();

    Ran genuine =
        run(
            PYTHON,
            SCRIPT.toString(),
            "--public-keys",
            pub,
            "--signed-flag",
            archived(signer, value, signed, "genuine.json").toString());
    assertThat(genuine.exit()).as(genuine.output()).isZero();
    assertThat(genuine.output())
        .contains("VERIFIED key=" + signer.keyId() + " model=m version=v2 flag=RED event=e-1");

    byte[] altered =
        new String(value, StandardCharsets.UTF_8)
            .replace("\"RED\"", "\"GREEN\"")
            .getBytes(StandardCharsets.UTF_8);
    Ran forged =
        run(
            PYTHON,
            SCRIPT.toString(),
            "--public-keys",
            pub,
            "--signed-flag",
            archived(signer, altered, signed, "altered.json").toString());
    assertThat(forged.exit()).as(forged.output()).isEqualTo(1);
    assertThat(forged.output())
        .contains("REJECTED model=m version=v2", "claims=GREEN", "bad signature");
  }

  @Test
  void theJavaRecipeVerifiesAGenuineFlagAndRejectsAnAlteredOne() throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Path recipe = Path.of("..", "docs", "examples", "VerifyFlag.java");
    KeyPair pair = FlagKeys.generate();
    FlagKeys.write(pair, dir.resolve("flags.key"), dir.resolve("flags.pub.pem"));
    FlagSigner signer = new FlagSigner(pair);
    byte[] value =
        Json.write(
            DriftFlag.builder()
                .runId("run-2")
                .eventId("e-2")
                .model("m")
                .version("v3")
                .flag(Flag.GREEN)
                .signingKeyId(signer.keyId())
                .build());
    SignedFlag signed = signer.sign(value);
    String pub = dir.resolve("flags.pub.pem").toString();

    Ran genuine =
        run(
            java.toString(),
            recipe.toString(),
            pub,
            archived(signer, value, signed, "genuine.json").toString());
    assertThat(genuine.exit()).as(genuine.output()).isZero();
    assertThat(genuine.output()).startsWith("VERIFIED key=" + signer.keyId());

    byte[] altered = new String(value, StandardCharsets.UTF_8).replace("run-2", "run-3").getBytes();
    Ran forged =
        run(
            java.toString(),
            recipe.toString(),
            pub,
            archived(signer, altered, signed, "altered.json").toString());
    assertThat(forged.exit()).as(forged.output()).isEqualTo(1);
    assertThat(forged.output()).contains("REJECTED: bad signature");
  }
}
