package io.evalfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.kafka.acl.FleetRole;
import io.evalfleet.common.kafka.acl.RoleAcls;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.Test;

/** {@code evalfleet topics --acls --dry-run}: the ACLs and kafka-acls.sh lines, offline. */
class TopicsCommandTest {
  @Test
  void dryRunPrintsEachPrincipalsGrantsAndTheKafkaAclsLinesWithoutConnecting() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream stdout = System.out;
    int code;
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      var line = Evalfleet.commandLine();
      line.setOut(new PrintWriter(System.out, true));
      code =
          Evalfleet.execute(
              line,
              new String[] {
                "topics",
                "-b",
                "127.0.0.1:1",
                "--acls",
                "--dry-run",
                "--principal",
                "worker=User:evalfleet-worker",
                "--principal",
                "worker=User:evalfleet-worker-tls",
                "--principal",
                "dispatcher=User:evalfleet-dispatcher"
              });
    } finally {
      System.setOut(stdout);
    }
    String printed = out.toString(StandardCharsets.UTF_8);
    assertThat(code).as(printed).isZero();
    int grants =
        2 * RoleAcls.grants(FleetRole.WORKER).size() + RoleAcls.grants(FleetRole.DISPATCHER).size();
    assertThat(printed.lines().filter(l -> l.startsWith("User:")).count()).isEqualTo(grants);
    assertThat(printed.lines().filter(l -> l.startsWith("kafka-acls.sh ")).count())
        .isEqualTo(grants);
    assertThat(printed)
        .contains(
            "kafka-acls.sh --bootstrap-server \"$KAFKA\" --command-config admin.properties --add"
                + " --allow-principal 'User:evalfleet-worker-tls' --operation Read --group"
                + " evalfleet-workers")
        .contains(
            "--allow-principal 'User:evalfleet-dispatcher' --operation Write --transactional-id"
                + " evalfleet-dispatcher- --resource-pattern-type prefixed")
        .containsPattern(
            "User:evalfleet-worker +worker +topic:evalfleet.results +literal +WRITE +shard results");
  }

  @Test
  void aDeniedClientGetsOneLineNamingTheTopicNotAStackTrace() {
    String message =
        CommandErrors.messageOf(
            new IllegalStateException(
                "cannot publish x",
                new TopicAuthorizationException(Set.of("evalfleet.baselines"))));
    assertThat(message)
        .startsWith("Kafka denied this principal access on topic evalfleet.baselines")
        .contains("WRITE for baseline-manager, dispatcher")
        .doesNotContain("Exception");
    assertThat(CommandErrors.exitCodeOf(new TopicAuthorizationException(List.of("t").toString())))
        .isEqualTo(ExitCode.BAD_INPUT);
  }
}
