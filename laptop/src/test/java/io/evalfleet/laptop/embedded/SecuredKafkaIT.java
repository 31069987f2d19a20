package io.evalfleet.laptop.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The secured broker itself: the admin is a super user, anyone else may do only what an ACL allows,
 * on SASL_SSL (SCRAM-SHA-512) and on mutual TLS (the certificate's common name is the principal),
 * and a wrong password is refused.
 */
class SecuredKafkaIT {
  @TempDir static Path dir;
  static SecuredKafka kafka;

  @BeforeAll
  static void start() throws Exception {
    kafka = SecuredKafka.start(dir.resolve("broker"));
    try (Admin admin = Admin.create(kafka.adminProperties())) {
      admin
          .createTopics(List.of(new NewTopic("t", Optional.of(1), Optional.empty())))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (kafka != null) {
      long pid = kafka.pid();
      kafka.close();
      assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive))
          .isIn(Optional.empty(), Optional.of(false));
    }
  }

  @Test
  void aScramUserMayWriteOnlyOnceAnAclAllowsIt() throws Exception {
    String password = kafka.addScramUser("writer");
    Map<String, Object> props = unprefixed(kafka.clientProperties("writer", password));
    assertThatThrownBy(() -> send(props)).hasRootCauseInstanceOf(TopicAuthorizationException.class);
    allowWrite("User:writer");
    send(props);
  }

  @Test
  void aClientCertificateIsThePrincipalOfItsCommonName() throws Exception {
    Map<String, Object> props = unprefixed(kafka.mtlsClientProperties("cert-writer"));
    assertThatThrownBy(() -> send(props)).hasRootCauseInstanceOf(TopicAuthorizationException.class);
    allowWrite("User:cert-writer");
    send(props);
  }

  @Test
  void aWrongPasswordIsRefused() throws Exception {
    kafka.addScramUser("someone");
    Map<String, Object> props = unprefixed(kafka.clientProperties("someone", "not-the-password"));
    assertThatThrownBy(() -> send(props)).hasRootCauseInstanceOf(SaslAuthenticationException.class);
  }

  @Test
  void noSecretIsInTheBrokersOutput() {
    List<String> log = kafka.brokerLog();
    assertThat(log).anyMatch(l -> l.contains("Kafka Server started"));
    for (String secret : kafka.secrets()) {
      assertThat(log).noneMatch(l -> l.contains(secret));
    }
  }

  static void allowWrite(String principal) throws Exception {
    try (Admin admin = Admin.create(kafka.adminProperties())) {
      admin
          .createAcls(
              List.of(
                  new AclBinding(
                      new ResourcePattern(ResourceType.TOPIC, "t", PatternType.LITERAL),
                      new AccessControlEntry(
                          principal, "*", AclOperation.WRITE, AclPermissionType.ALLOW))))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
    Thread.sleep(500); // the ACL reaches the authorizer through the metadata log
  }

  static void send(Map<String, Object> props) throws Exception {
    Map<String, Object> p = new HashMap<>(props);
    p.put("max.block.ms", (int) Duration.ofSeconds(15).toMillis());
    p.put("delivery.timeout.ms", (int) Duration.ofSeconds(15).toMillis());
    p.put("request.timeout.ms", (int) Duration.ofSeconds(10).toMillis());
    try (var producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
      producer.send(new ProducerRecord<>("t", "k", "v")).get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw e;
    }
  }

  static Map<String, Object> unprefixed(Map<String, String> kafkaKeys) {
    Map<String, Object> props = new HashMap<>();
    kafkaKeys.forEach((k, v) -> props.put(k.substring("kafka.".length()), v));
    props.put("client.id", "secured-kafka-it");
    return props;
  }
}
