import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Verifies an evalfleet drift flag's Ed25519 signature with the JDK alone (17 or later).
 *
 * <p>A Kafka consumer calls {@code verify(keys, record.value(), header(record, "evalfleet.signature"),
 * header(record, "evalfleet.signing-key"))}; run as a program, it checks a flag archived beside its
 * lockfile: {@code java VerifyFlag.java flags.pub.pem locks/m/v2.flag.signed.json}.
 */
public class VerifyFlag {
  /** Key id: the first 16 hex digits of SHA-256 over the key's SubjectPublicKeyInfo DER. */
  static String keyId(PublicKey key) throws Exception {
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getEncoded());
    return HexFormat.of().formatHex(digest, 0, 8);
  }

  /** A PEM public key as `openssl pkey -pubout` or `evalfleet keys generate` writes it. */
  static PublicKey readPublicKey(Path pem) throws Exception {
    String base64 = Files.readString(pem).replaceAll("-----[A-Z ]+-----|\\s", "");
    byte[] der = Base64.getDecoder().decode(base64);
    return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
  }

  /** The trusted key id that signed {@code value}; throws naming why not. */
  static String verify(Map<String, PublicKey> keys, byte[] value, String signature, String keyId)
      throws Exception {
    if (signature == null || keyId == null) {
      throw new SecurityException("unsigned");
    }
    PublicKey key = keys.get(keyId);
    if (key == null) {
      throw new SecurityException("unknown key " + keyId);
    }
    Signature verifier = Signature.getInstance("Ed25519");
    verifier.initVerify(key);
    verifier.update(value); // the record's value bytes exactly as read, never re-serialised
    if (!verifier.verify(Base64.getDecoder().decode(signature))) {
      throw new SecurityException("bad signature: forged or altered");
    }
    // The flag names its key inside the signed bytes (read it with your JSON library).
    if (!keyId.equals(field(new String(value, StandardCharsets.UTF_8), "signing_key_id"))) {
      throw new SecurityException("the flag's signing_key_id is not " + keyId);
    }
    return keyId;
  }

  static String field(String json, String name) {
    Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
    return m.find() ? m.group(1) : null;
  }

  public static void main(String[] args) throws Exception {
    PublicKey key = readPublicKey(Path.of(args[0]));
    Map<String, PublicKey> keys = new HashMap<>(Map.of(keyId(key), key));
    String archived = Files.readString(Path.of(args[1]));
    byte[] value = Base64.getDecoder().decode(field(archived, "value"));
    try {
      String by = verify(keys, value, field(archived, "signature"), field(archived, "signing_key_id"));
      System.out.println("VERIFIED key=" + by + " " + new String(value, StandardCharsets.UTF_8));
    } catch (SecurityException e) {
      System.out.println("REJECTED: " + e.getMessage());
      System.exit(1);
    }
  }
}
