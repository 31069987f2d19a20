package io.evalfleet.common.signing;

import com.fasterxml.jackson.databind.JsonNode;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * Verifies flags signed by {@link FlagSigner} against the public keys it trusts, known by their ids
 * ({@link FlagKeys#keyId}); trusting several keys is how a key is rotated. A flag verifies when its
 * headers name a trusted key, the signature is that key's over the exact value bytes, and the flag
 * JSON names the same key as {@code signing_key_id}. Thread-safe.
 */
public final class FlagVerifier {
  /** Why a flag was rejected. */
  public enum Reason {
    /** No signature or no key id in the record's headers. */
    UNSIGNED("unsigned"),
    /** Signed by a key that is not trusted. */
    UNKNOWN_KEY("unknown_key"),
    /** The signature is not the named key's over these bytes: forged or altered. */
    BAD_SIGNATURE("bad_signature"),
    /** The header's key id is not the flag's own {@code signing_key_id}. */
    KEY_MISMATCH("key_mismatch");

    private final String wireName;

    Reason(String wireName) {
      this.wireName = wireName;
    }

    /** The reason as JSON output and dead-letter headers name it. */
    public String wireName() {
      return wireName;
    }
  }

  /** The outcome of verifying one flag. */
  public sealed interface Verification permits Verified, Rejected {
    boolean verified();
  }

  /** Signed by the trusted key {@code keyId}. */
  public record Verified(String keyId) implements Verification {
    @Override
    public boolean verified() {
      return true;
    }
  }

  /** Not to be trusted, and why in words ({@code detail}). */
  public record Rejected(Reason reason, String detail) implements Verification {
    @Override
    public boolean verified() {
      return false;
    }
  }

  private final Map<String, PublicKey> keys = new LinkedHashMap<>();

  public FlagVerifier(List<PublicKey> trusted) {
    if (trusted.isEmpty()) {
      throw new IllegalArgumentException("a flag verifier needs at least one public key");
    }
    trusted.forEach(key -> keys.put(FlagKeys.keyId(key), key));
  }

  /**
   * The verifier of the keys {@link FleetConfig#FLAG_PUBLIC_KEYS} names, or none when it names
   * none.
   */
  public static Optional<FlagVerifier> of(FleetConfig config) throws FlagKeys.KeyFileException {
    String locations = config.get(FleetConfig.FLAG_PUBLIC_KEYS);
    if (locations.isBlank()) {
      return Optional.empty();
    }
    return Optional.of(new FlagVerifier(FlagKeys.readPublicKeys(locations)));
  }

  /** The ids of the trusted keys. */
  public Set<String> keyIds() {
    return keys.keySet();
  }

  /** Verifies a record of the flags topic: its value and headers as they came. */
  public Verification verify(byte[] value, Headers headers) {
    String signature = last(headers, FlagSigner.SIGNATURE_HEADER);
    String keyId = last(headers, FlagSigner.KEY_HEADER);
    if (signature == null || keyId == null) {
      return new Rejected(
          Reason.UNSIGNED,
          "no "
              + (signature == null ? FlagSigner.SIGNATURE_HEADER : FlagSigner.KEY_HEADER)
              + " header: the flag is unsigned");
    }
    byte[] bytes;
    try {
      bytes = Base64.getDecoder().decode(signature);
    } catch (IllegalArgumentException e) {
      return new Rejected(Reason.BAD_SIGNATURE, "the signature header is not base64");
    }
    return verify(new SignedFlag(value == null ? new byte[0] : value, keyId, bytes));
  }

  /** Verifies a flag with its signature, e.g. as the archive keeps it. */
  public Verification verify(SignedFlag signed) {
    PublicKey key = keys.get(signed.keyId());
    if (key == null) {
      return new Rejected(
          Reason.UNKNOWN_KEY,
          "signed by key "
              + printable(signed.keyId())
              + ", which is not among the trusted keys "
              + keys.keySet());
    }
    try {
      Signature verifier = Signature.getInstance(FlagKeys.ALGORITHM);
      verifier.initVerify(key);
      verifier.update(signed.value());
      if (signed.signature().length != 64 || !verifier.verify(signed.signature())) {
        return new Rejected(
            Reason.BAD_SIGNATURE,
            "the signature is not key "
                + signed.keyId()
                + "'s over these bytes: the flag was forged or altered");
      }
    } catch (GeneralSecurityException e) {
      return new Rejected(Reason.BAD_SIGNATURE, "the signature cannot be checked: " + e);
    }
    String inside = signingKeyIdOf(signed.value());
    if (!signed.keyId().equals(inside)) {
      return new Rejected(
          Reason.KEY_MISMATCH,
          "the header names key "
              + signed.keyId()
              + " but the flag's signing_key_id is "
              + (inside == null ? "absent" : printable(inside)));
    }
    return new Verified(signed.keyId());
  }

  private static String signingKeyIdOf(byte[] value) {
    try {
      JsonNode id = Json.mapper().readTree(value).path("signing_key_id");
      return id.isTextual() ? id.asText() : null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static String last(Headers headers, String name) {
    Header header = headers == null ? null : headers.lastHeader(name);
    return header == null || header.value() == null
        ? null
        : new String(header.value(), StandardCharsets.US_ASCII);
  }

  /** A key id from a record, bounded and without control characters, for messages. */
  private static String printable(String keyId) {
    String clean = keyId.replaceAll("[^\\x20-\\x7e]", "?");
    return clean.length() > 40 ? clean.substring(0, 40) + "..." : clean;
  }
}
