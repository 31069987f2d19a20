package io.evalfleet.common.signing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.EdECPrivateKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Ed25519 keys of flag signing, with the JDK alone: PEM files as {@code openssl genpkey -algorithm
 * ed25519} and {@code openssl pkey -pubout} write them (PKCS#8 and X.509 SubjectPublicKeyInfo), or
 * the same encodings as DER; and the key id a verifier knows a key by. Every failure is a {@link
 * KeyFileException} naming the file and never holding key bytes.
 */
public final class FlagKeys {
  /** The algorithm of flag signatures, as the JDK names it. */
  public static final String ALGORITHM = "Ed25519";

  private static final Pattern PEM =
      Pattern.compile("-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");

  private FlagKeys() {}

  /** A key file that is missing, unreadable or not an Ed25519 key; the message names the file. */
  public static final class KeyFileException extends IOException {
    public KeyFileException(String message) {
      super(message);
    }
  }

  /**
   * The id of {@code key}: the first 16 hex digits of the SHA-256 of its X.509 SubjectPublicKeyInfo
   * DER encoding.
   */
  public static String keyId(PublicKey key) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getEncoded());
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }

  /** A new key pair from the JDK's generator. */
  public static KeyPair generate() {
    try {
      return KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK has no " + ALGORITHM, e);
    }
  }

  /**
   * Writes {@code pair} as PEM: the private key as PKCS#8, readable by its owner alone (where the
   * file system has POSIX permissions), the public key as SubjectPublicKeyInfo. Neither file may
   * exist yet.
   */
  public static void write(KeyPair pair, Path privateKey, Path publicKey) throws IOException {
    if (Files.exists(publicKey)) {
      throw new java.nio.file.FileAlreadyExistsException(publicKey.toString());
    }
    byte[] privatePem = pem("PRIVATE KEY", pair.getPrivate().getEncoded());
    try {
      Files.createFile(
          privateKey,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException e) {
      Files.createFile(privateKey);
    }
    Files.write(privateKey, privatePem, StandardOpenOption.TRUNCATE_EXISTING);
    Files.write(
        publicKey,
        pem("PUBLIC KEY", pair.getPublic().getEncoded()),
        StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE);
  }

  /** Reads an Ed25519 private key (PKCS#8, PEM or DER) with its public key. */
  public static KeyPair readPrivateKey(Path file) throws KeyFileException {
    byte[] der = der(file, "PRIVATE KEY", "private");
    PrivateKey key;
    try {
      key = KeyFactory.getInstance(ALGORITHM).generatePrivate(new PKCS8EncodedKeySpec(der));
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new KeyFileException(
          "the flag signing key "
              + file
              + " is not an Ed25519 private key in PKCS#8 (make one with `openssl genpkey"
              + " -algorithm ed25519` or `evalfleet keys generate`)");
    }
    PublicKey derived = publicKeyOf(key, file);
    return new KeyPair(derived, key);
  }

  /** Reads an Ed25519 public key (X.509 SubjectPublicKeyInfo, PEM or DER). */
  public static PublicKey readPublicKey(Path file) throws KeyFileException {
    byte[] der = der(file, "PUBLIC KEY", "public");
    try {
      return KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(der));
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new KeyFileException(
          "the flag public key "
              + file
              + " is not an Ed25519 public key in SubjectPublicKeyInfo form (`openssl pkey -in KEY"
              + " -pubout` writes one)");
    }
  }

  /**
   * The public keys that {@code locations} names: comma-separated files, or directories whose
   * {@code *.pem} files are each one key.
   */
  public static List<PublicKey> readPublicKeys(String locations) throws KeyFileException {
    List<PublicKey> keys = new ArrayList<>();
    for (String location : locations.split(",")) {
      if (location.isBlank()) {
        continue;
      }
      Path path = Path.of(location.trim());
      if (Files.isDirectory(path)) {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> pems = Files.newDirectoryStream(path, "*.pem")) {
          pems.forEach(files::add);
        } catch (IOException e) {
          throw new KeyFileException("cannot list the flag public keys in " + path + ": " + e);
        }
        if (files.isEmpty()) {
          throw new KeyFileException("the directory of flag public keys " + path + " has no *.pem");
        }
        files.sort(null);
        for (Path file : files) {
          keys.add(readPublicKey(file));
        }
      } else {
        keys.add(readPublicKey(path));
      }
    }
    return keys;
  }

  private static byte[] der(Path file, String label, String which) throws KeyFileException {
    byte[] content;
    try {
      content = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new KeyFileException("the flag " + which + " key file " + file + " does not exist");
    } catch (AccessDeniedException e) {
      throw new KeyFileException("the flag " + which + " key file " + file + " is not readable");
    } catch (IOException e) {
      throw new KeyFileException(
          "cannot read the flag " + which + " key file " + file + ": " + e.getClass().getName());
    }
    String text = new String(content, StandardCharsets.US_ASCII);
    if (!text.contains("-----BEGIN")) {
      return content; // DER
    }
    Matcher pem = PEM.matcher(text);
    while (pem.find()) {
      if (pem.group(1).equals(label)) {
        try {
          return Base64.getMimeDecoder().decode(pem.group(2));
        } catch (IllegalArgumentException e) {
          break;
        }
      }
    }
    throw new KeyFileException(
        "the flag " + which + " key file " + file + " holds no PEM block '" + label + "'");
  }

  private static byte[] pem(String label, byte[] der) {
    String body =
        Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    return ("-----BEGIN " + label + "-----\n" + body + "\n-----END " + label + "-----\n")
        .getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * The public key of an Ed25519 private key. The JDK computes it only when it makes a key pair,
   * from 32 random bytes that are the private key: so a key pair is made from this key's own bytes.
   * The pair is checked by a signature before it is used.
   */
  static PublicKey publicKeyOf(PrivateKey key, Path file) throws KeyFileException {
    byte[] seed =
        ((EdECPrivateKey) key)
            .getBytes()
            .orElseThrow(
                () -> new KeyFileException("the flag signing key " + file + " cannot be read"));
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance(ALGORITHM);
      generator.initialize(NamedParameterSpec.ED25519, new SeedRandom(seed));
      KeyPair pair = generator.generateKeyPair();
      byte[] probe = "evalfleet flag signing key check".getBytes(StandardCharsets.US_ASCII);
      Signature signer = Signature.getInstance(ALGORITHM);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(ALGORITHM);
      verifier.initVerify(pair.getPublic());
      verifier.update(probe);
      if (!verifier.verify(signature)) {
        throw new KeyFileException("cannot derive the public key of the flag signing key " + file);
      }
      return pair.getPublic();
    } catch (GeneralSecurityException e) {
      throw new KeyFileException(
          "cannot derive the public key of the flag signing key " + file + ": " + e.getClass());
    } finally {
      Arrays.fill(seed, (byte) 0);
    }
  }

  /** Gives the key pair generator the private key's bytes as its randomness, once. */
  private static final class SeedRandom extends SecureRandom {
    private static final long serialVersionUID = 1L;
    private final byte[] seed;
    private boolean used;

    SeedRandom(byte[] seed) {
      this.seed = seed;
    }

    @Override
    public void nextBytes(byte[] bytes) {
      if (used || bytes.length != seed.length) {
        throw new IllegalStateException("the key pair generator asked for other randomness");
      }
      System.arraycopy(seed, 0, bytes, 0, seed.length);
      used = true;
    }
  }
}
