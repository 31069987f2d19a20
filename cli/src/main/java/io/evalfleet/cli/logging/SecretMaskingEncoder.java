package io.evalfleet.cli.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.encoder.EncoderBase;
import ch.qos.logback.core.encoder.JsonEscapeUtil;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import io.evalfleet.common.config.SecretValues;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/**
 * Wraps the encoder of an appender and masks, in everything it writes (message, arguments, stack
 * traces, JSON or text), every secret the settings loaded ({@link SecretValues}), as written and as
 * a JSON string escapes it. A defence in depth: the fleet's own messages never hold a secret, but a
 * library's message or exception might. Configured in {@code logback.xml} as
 *
 * <pre>{@code
 * <encoder class="io.evalfleet.cli.logging.SecretMaskingEncoder">
 *   <encoder class="ch.qos.logback.classic.encoder.JsonEncoder">...</encoder>
 * </encoder>
 * }</pre>
 */
public final class SecretMaskingEncoder extends EncoderBase<ILoggingEvent> {
  private Encoder<ILoggingEvent> encoder;

  /** The encoder whose output is masked; logback starts it. */
  public void setEncoder(Encoder<ILoggingEvent> encoder) {
    this.encoder = encoder;
  }

  @Override
  public void start() {
    if (encoder == null) {
      addError("SecretMaskingEncoder needs a nested <encoder>");
      return;
    }
    super.start();
  }

  @Override
  public byte[] headerBytes() {
    return encoder.headerBytes();
  }

  @Override
  public byte[] encode(ILoggingEvent event) {
    byte[] encoded = encoder.encode(event);
    if (encoded == null) {
      return null;
    }
    Charset charset = charset();
    String text = new String(encoded, charset);
    String masked = SecretValues.mask(text, JsonEscapeUtil::jsonEscapeString);
    return masked.equals(text) ? encoded : masked.getBytes(charset);
  }

  @Override
  public byte[] footerBytes() {
    return encoder.footerBytes();
  }

  private Charset charset() {
    if (encoder instanceof LayoutWrappingEncoder<?> layout) {
      return layout.getCharset() != null ? layout.getCharset() : Charset.defaultCharset();
    }
    return StandardCharsets.UTF_8; // JsonEncoder's
  }
}
