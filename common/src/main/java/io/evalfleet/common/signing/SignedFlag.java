package io.evalfleet.common.signing;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Arrays;
import java.util.Base64;

/**
 * A flag's exact value bytes with their Ed25519 signature and the id of the key that made it: what
 * a record of the flags topic carries, and what the archive keeps beside the version's lockfile (as
 * JSON, bytes in base64) for {@code baseline promote} to verify long after the compacted topic
 * dropped it.
 */
public record SignedFlag(byte[] value, String keyId, byte[] signature) {
  public SignedFlag {
    if (value == null || keyId == null || signature == null) {
      throw new IllegalArgumentException("a signed flag needs its value, key id and signature");
    }
  }

  /** The archived form. */
  public record Archived(
      @JsonProperty("schema_version") int schemaVersion,
      @JsonProperty("signing_key_id") String signingKeyId,
      @JsonProperty("signature") String signature,
      @JsonProperty("value") String value) {
    @JsonCreator
    public Archived {}
  }

  public Archived archived() {
    Base64.Encoder base64 = Base64.getEncoder();
    return new Archived(1, keyId, base64.encodeToString(signature), base64.encodeToString(value));
  }

  /** Reads the archived form; throws {@link IllegalArgumentException} when a part is missing. */
  public static SignedFlag of(Archived archived) {
    if (archived.value() == null || archived.signature() == null) {
      throw new IllegalArgumentException("the archived flag lacks its value or its signature");
    }
    Base64.Decoder base64 = Base64.getDecoder();
    return new SignedFlag(
        base64.decode(archived.value()),
        archived.signingKeyId() == null ? "" : archived.signingKeyId(),
        base64.decode(archived.signature()));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SignedFlag other
        && Arrays.equals(value, other.value)
        && keyId.equals(other.keyId)
        && Arrays.equals(signature, other.signature);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(value) + Arrays.hashCode(signature);
  }

  @Override
  public String toString() {
    return "SignedFlag[" + value.length + " bytes, key " + keyId + "]";
  }
}
