package io.evalfleet.cli;

import io.evalfleet.common.signing.FlagKeys;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Flag signing keys, made with the JDK alone (openssl makes the same files). */
@Command(
    name = "keys",
    description = "Make the Ed25519 key pair the dispatcher signs flags with.",
    subcommands = {KeysCommand.Generate.class})
final class KeysCommand {
  @Command(
      name = "generate",
      header = "Write a new Ed25519 key pair as PEM and print its key id.",
      description = {
        "The private key file is readable by its owner alone. The same as `openssl genpkey"
            + " -algorithm ed25519 -out FILE` and `openssl pkey -in FILE -pubout -out PUBLIC`."
      })
  static final class Generate implements Callable<Integer> {
    @Option(
        names = "--private-key",
        required = true,
        paramLabel = "FILE",
        description = "Where the private key goes (flags.signing-key); must not exist.")
    Path privateKey;

    @Option(
        names = "--public-key",
        required = true,
        paramLabel = "FILE",
        description = "Where the public key goes (flags.public-keys); must not exist.")
    Path publicKey;

    @Override
    public Integer call() throws Exception {
      KeyPair pair = FlagKeys.generate();
      try {
        FlagKeys.write(pair, privateKey, publicKey);
      } catch (FileAlreadyExistsException e) {
        throw CommandFailure.badInput(
            e.getFile() + " exists already: keys are never overwritten; choose another file");
      }
      System.out.println("key id " + FlagKeys.keyId(pair.getPublic()));
      System.out.println("private key " + privateKey + " (flags.signing-key of the dispatcher)");
      System.out.println("public key " + publicKey + " (flags.public-keys of the verifiers)");
      return ExitCode.OK;
    }
  }
}
