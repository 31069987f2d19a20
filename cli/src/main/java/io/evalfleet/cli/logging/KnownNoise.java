package io.evalfleet.cli.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.spi.FilterReply;
import java.util.List;

/**
 * Drops warnings that are known to be harmless and that a user can do nothing about, so that a
 * warning on an interactive console always means something. Each entry is one logger and the start
 * of one message; anything else passes.
 */
public final class KnownNoise extends Filter<ILoggingEvent> {
  private record Noise(String logger, String messageStart, String contains) {}

  private static final List<Noise> KNOWN =
      List.of(
          // The embedded broker closes its controller channel twice on shutdown (a Kafka quirk,
          // harmless).
          new Noise(
              "org.apache.kafka.clients.NetworkClient",
              "[NodeToControllerChannelManager",
              "already been closed"),
          // A laptop fleet's dispatcher state is thrown away with its embedded broker, wherever it
          // lies.
          new Noise(
              "org.apache.kafka.streams.processor.internals.StateDirectory",
              "Using an OS temp directory in the state.dir property",
              "state.dir"),
          // A broker that does not answer, said once per try: a command for a person says it once,
          // in
          // its error, when it gives up (the log file keeps every try).
          new Noise(
              "org.apache.kafka.clients.NetworkClient",
              "[",
              "could not be established. Node may not be available"),
          new Noise("org.apache.kafka.clients.NetworkClient", "[", ") disconnected"),
          // A dispatcher's first start: Kafka Streams creates its repartition topics while its
          // consumer
          // already asks for them (evalfleet's own topics are checked before the start, by name).
          new Noise(
              "org.apache.kafka.clients.NetworkClient",
              "[Consumer clientId=evalfleet-dispatcher",
              "by-model-repartition=UNKNOWN_TOPIC_OR_PARTITION"),
          // The dispatcher begins its next transaction as soon as it commits one (it commits at
          // once after a staged event, a run's first jobs and a flag); the coordinator refuses a
          // write while it still completes the previous one, and the producer retries in 10 ms.
          new Noise(
              "org.apache.kafka.clients.producer.internals.Sender",
              "[Producer clientId=evalfleet-dispatcher",
              "Error: CONCURRENT_TRANSACTIONS"),
          // A secured cluster denying the command's principal, or its credentials: the command
          // says so once, in its error, naming the topic and the role whose ACLs allow it.
          new Noise("org.apache.kafka.clients.NetworkClient", "[", "_AUTHORIZATION_FAILED"),
          new Noise("org.apache.kafka.clients.Metadata", "[", "authorization failed for topics"),
          new Noise("org.apache.kafka.clients.NetworkClient", "[", "failed authentication due to"),
          // Closing a producer whose producer id was refused: Kafka's client tries to abort a
          // transaction it never had and says so with a stack trace.
          new Noise(
              "org.apache.kafka.clients.producer.internals.Sender",
              "[Producer clientId=evalfleet-",
              "while aborting transaction when during closing"),
          // A key or trust store that cannot be opened: the command's error names the file and the
          // settings, without the stack trace Kafka logs first.
          new Noise(
              "org.apache.kafka.common.security.ssl.DefaultSslEngineFactory",
              "Modification time of key store could not be obtained",
              ""),
          // Kafka Streams 4.3 advises on its global-store thread, which the dispatcher does not
          // have.
          new Noise(
              "org.apache.kafka.streams.StreamsConfig",
              "Processing exception handler is not enabled for the GlobalThread",
              "GlobalThread"));

  @Override
  public FilterReply decide(ILoggingEvent event) {
    for (Noise noise : KNOWN) {
      if (event.getLoggerName().equals(noise.logger())
          && event.getMessage() != null
          && event.getMessage().startsWith(noise.messageStart())
          && event.getFormattedMessage().contains(noise.contains())) {
        return FilterReply.DENY;
      }
    }
    return FilterReply.NEUTRAL;
  }
}
