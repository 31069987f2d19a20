package io.evalfleet.common.signing;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.Base64;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Signs flag records with the dispatcher's Ed25519 key: over the exact value bytes of a record,
 * carried in its headers {@value #SIGNATURE_HEADER} (base64 of the 64-byte signature) and {@value
 * #KEY_HEADER} (the key id, {@link FlagKeys#keyId}). Thread-safe.
 */
public final class FlagSigner {
  /** The record header holding the base64 of the Ed25519 signature of the record's value. */
  public static final String SIGNATURE_HEADER = "evalfleet.signature";

  /** The record header naming the id of the key that signed the record. */
  public static final String KEY_HEADER = "evalfleet.signing-key";

  private final PrivateKey key;
  private final String keyId;

  public FlagSigner(KeyPair pair) {
    this.key = pair.getPrivate();
    this.keyId = FlagKeys.keyId(pair.getPublic());
  }

  /** The signer of the PKCS#8 key in {@code file} (see {@link FlagKeys#readPrivateKey}). */
  public static FlagSigner of(Path file) throws FlagKeys.KeyFileException {
    return new FlagSigner(FlagKeys.readPrivateKey(file));
  }

  /** The id of this signer's key, which the flags it signs carry as {@code signing_key_id}. */
  public String keyId() {
    return keyId;
  }

  /** {@code value} signed. */
  public SignedFlag sign(byte[] value) {
    try {
      Signature signature = Signature.getInstance(FlagKeys.ALGORITHM);
      signature.initSign(key);
      signature.update(value);
      return new SignedFlag(value, keyId, signature.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign with the flag signing key " + keyId, e);
    }
  }

  /** The record headers that carry {@code signed}'s signature and key id. */
  public static Headers headers(SignedFlag signed) {
    RecordHeaders headers = new RecordHeaders();
    headers.add(
        SIGNATURE_HEADER,
        Base64.getEncoder().encodeToString(signed.signature()).getBytes(StandardCharsets.US_ASCII));
    headers.add(KEY_HEADER, signed.keyId().getBytes(StandardCharsets.US_ASCII));
    return headers;
  }
}
