package io.evalfleet.common.kafka.acl;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.failure.FailureKind;
import io.evalfleet.common.failure.Failures;
import io.evalfleet.common.kafka.Topics;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.junit.jupiter.api.Test;

/** What an operator reads when the cluster refuses a client, for each of Kafka's refusals. */
class KafkaDenialTest {
  @Test
  void aTopicDenialNamesTheTopicTheOperationAndTheRolesAllowedIt() {
    var wrapped = new ExecutionException(new TopicAuthorizationException(Set.of(Topics.STAGED)));

    String message = KafkaDenial.of(wrapped).orElseThrow().message(AclOperation.WRITE);

    assertThat(message)
        .contains("WRITE on topic evalfleet.weights.staged")
        .contains("(on evalfleet.weights.staged: WRITE for submitter)")
        .contains("evalfleet topics --acls --principal ROLE=User:NAME");
  }

  @Test
  void withoutAnOperationEachRolesOperationsOnTheTopicAreListed() {
    String message =
        KafkaDenial.of(new TopicAuthorizationException(Set.of("evalfleet.drift-flags")))
            .orElseThrow()
            .message(null, FleetRole.NOTIFIER);

    assertThat(message)
        .contains("access on topic evalfleet.drift-flags")
        .contains("READ for notifier, promotion-reader, submitter")
        .contains("WRITE for dispatcher")
        .contains("--principal notifier=User:NAME");
  }

  @Test
  void aGroupDenialNamesTheGroupAndItsRole() {
    String message =
        KafkaDenial.of(new GroupAuthorizationException("denied", "evalfleet-workers"))
            .orElseThrow()
            .message(AclOperation.READ, FleetRole.WORKER);

    assertThat(message)
        .contains("READ on consumer group evalfleet-workers")
        .contains("READ for worker")
        .contains("--principal worker=User:NAME");
  }

  @Test
  void aPrefixedGrantCoversTheNamesUnderItsPrefix() {
    assertThat(
            KafkaDenial.whoMay(
                org.apache.kafka.common.resource.ResourceType.GROUP,
                "evalfleet-promotion-canary",
                AclOperation.READ))
        .isEqualTo("on evalfleet-promotion-canary: READ for promotion-reader");
    assertThat(
            KafkaDenial.whoMay(
                org.apache.kafka.common.resource.ResourceType.TOPIC,
                "evalfleet.results",
                AclOperation.DESCRIBE))
        .isEqualTo("on evalfleet.results: DESCRIBE for dispatcher, worker");
  }

  @Test
  void transactionalIdsClusterAndCredentialsSayWhatIsNeeded() {
    assertThat(
            KafkaDenial.of(new TransactionalIdAuthorizationException("no"))
                .orElseThrow()
                .message(AclOperation.WRITE, FleetRole.MONITOR))
        .contains("transactional id")
        .contains("WRITE for dispatcher, monitor")
        .contains("--principal monitor=User:NAME");
    assertThat(KafkaDenial.of(new ClusterAuthorizationException("no")).orElseThrow().message(null))
        .contains("administrator's principal (CREATE and ALTER on the cluster)");
    KafkaDenial credentials =
        KafkaDenial.of(
                new SaslAuthenticationException(
                    "Authentication failed during authentication due to invalid credentials with"
                        + " SASL mechanism SCRAM-SHA-512"))
            .orElseThrow();
    assertThat(credentials.authentication()).isTrue();
    assertThat(credentials.message(AclOperation.READ))
        .startsWith("Kafka refused the credentials")
        .contains("kafka.sasl.jaas.config");
  }

  @Test
  void anUntrustedBrokerCertificateSendsTheReaderToTheTruststore() {
    var handshake =
        new SslAuthenticationException(
            "SSL handshake failed",
            new javax.net.ssl.SSLHandshakeException(
                "PKIX path building failed: unable to find valid certification path to requested"
                    + " target"));
    String message = KafkaDenial.of(handshake).orElseThrow().message(null);
    assertThat(message)
        .contains("unable to find valid certification path")
        .contains("kafka.ssl.truststore.*")
        .doesNotContain("kafka.sasl.jaas.config");
  }

  @Test
  void deniedIsAMistakeOfTheSettingsNotAnOutageNorABug() {
    assertThat(Failures.kindOf(new IllegalStateException(new TopicAuthorizationException("x"))))
        .isEqualTo(FailureKind.BAD_INPUT);
    assertThat(Failures.kindOf(new SaslAuthenticationException("x")))
        .isEqualTo(FailureKind.BAD_INPUT);
    assertThat(KafkaDenial.of(new TimeoutException("slow"))).isEmpty();
  }
}
