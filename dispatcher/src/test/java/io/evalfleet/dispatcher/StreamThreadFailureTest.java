package io.evalfleet.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.junit.jupiter.api.Test;

/**
 * A failed stream thread is replaced, unless the cluster denied the principal: a new thread would
 * be denied again, forever.
 */
class StreamThreadFailureTest {
  @Test
  void aDenialShutsTheInstanceDownInsteadOfReplacingTheThread() {
    for (Throwable denial :
        new Throwable[] {
          new TopicAuthorizationException(Set.of("evalfleet.jobs")),
          new GroupAuthorizationException("denied", "evalfleet-dispatcher"),
          new TransactionalIdAuthorizationException("denied"),
          new SaslAuthenticationException("Authentication failed")
        }) {
      assertThat(DispatcherRole.onStreamThreadFailure(new StreamsException("task 0_1", denial)))
          .as("%s", denial)
          .isEqualTo(StreamThreadExceptionResponse.SHUTDOWN_CLIENT);
    }
  }

  @Test
  void anyOtherFailureReplacesTheThread() {
    assertThat(
            DispatcherRole.onStreamThreadFailure(
                new StreamsException("task 0_1", new IllegalStateException("a bug"))))
        .isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
  }
}
