package io.evalfleet.cli.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.spi.FilterReply;
import java.util.List;

/**
 * Drops warnings that are known to be harmless and that a user can do nothing about, so that a
 * warning on an interactive console always means something. Each entry is one logger and the
 * start of one message; anything else passes.
 */
public final class KnownNoise extends Filter<ILoggingEvent> {
  private record Noise(String logger, String messageStart) {}

  private static final List<Noise> KNOWN = List.of(
      // The embedded broker closes its controller channel twice on shutdown (a Kafka quirk, harmless).
      new Noise("org.apache.kafka.clients.NetworkClient", "[NodeToControllerChannelManager"));

  @Override
  public FilterReply decide(ILoggingEvent event) {
    for (Noise noise : KNOWN) {
      if (event.getLoggerName().equals(noise.logger()) && event.getMessage() != null
          && event.getMessage().startsWith(noise.messageStart())
          && event.getFormattedMessage().contains("already been closed")) {
        return FilterReply.DENY;
      }
    }
    return FilterReply.NEUTRAL;
  }
}
