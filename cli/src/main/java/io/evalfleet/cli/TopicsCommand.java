package io.evalfleet.cli;

import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.TopicSetup;
import io.evalfleet.common.kafka.acl.FleetRole;
import io.evalfleet.common.kafka.acl.KafkaDenial;
import io.evalfleet.common.kafka.acl.RoleAcls;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.errors.ResourceNotFoundException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "topics",
    header = "Creates the evalfleet topics where missing; with --acls, each role's least ACLs.",
    description =
        "Create the evalfleet topics on a Kafka cluster where they are missing; with --acls, also"
            + " give each principal the least access its role needs. Runs as an administrator's"
            + " principal (CREATE and ALTER on the cluster).")
final class TopicsCommand implements Callable<Integer> {
  @Mixin ConfigOptions config;

  @Option(
      names = "--job-partitions",
      defaultValue = "12",
      description =
          "Partitions of the jobs topic (caps the number of busy workers). Default: ${DEFAULT-VALUE}.")
  int jobPartitions;

  @Option(
      names = "--acls",
      description =
          "Also create the ACLs of the roles --principal names (idempotent: existing ones stay).")
  boolean acls;

  @Option(
      names = "--principal",
      paramLabel = "ROLE=PRINCIPAL",
      description =
          "With --acls: a principal and the role it runs as, e.g. worker=User:evalfleet-worker;"
              + " repeat for more. Roles: dispatcher, worker, notifier, monitor, submitter,"
              + " promotion-reader, baseline-manager.")
  List<String> principals = new ArrayList<>();

  @Option(
      names = "--dry-run",
      description =
          "With --acls: print the ACLs, and the kafka-acls.sh commands that create them, without"
              + " connecting.")
  boolean dryRun;

  /** One principal and the role whose ACLs it gets. */
  record Assignment(FleetRole role, String principal) {}

  @Override
  public Integer call() throws Exception {
    List<Assignment> assignments = assignments();
    if (dryRun) {
      printAcls(assignments, System.out);
      System.out.println();
      System.out.println(
          "# the same with Kafka's own tool (admin.properties: the admin's settings)");
      for (Assignment a : assignments) {
        for (AclBinding binding : RoleAcls.bindings(a.role(), a.principal())) {
          System.out.println(kafkaAclsCommand(binding));
        }
      }
      return ExitCode.OK;
    }
    try (Admin admin = Admin.create(KafkaClients.adminProperties(config.load()))) {
      TopicSetup.ensure(admin, jobPartitions);
      System.out.println("topics ready: " + String.join(", ", admin.listTopics().names().get()));
      if (acls) {
        List<AclBinding> bindings = new ArrayList<>();
        assignments.forEach(a -> bindings.addAll(RoleAcls.bindings(a.role(), a.principal())));
        admin.createAcls(bindings).all().get(30, TimeUnit.SECONDS);
        printAcls(assignments, System.out);
        warnOfUnknownUsers(admin, assignments);
      }
    } catch (ExecutionException | IllegalStateException e) {
      throw KafkaDenial.of(e)
          .<Exception>map(
              d ->
                  CommandFailure.badInput(
                      d.authentication()
                          ? d.message(null)
                          : "creating topics and ACLs takes an administrator's principal (CREATE"
                              + " and ALTER on the cluster), and this one was denied: "
                              + d.detail()))
          .orElse(e);
    }
    return ExitCode.OK;
  }

  /**
   * Says which {@code User:} principals have no SCRAM credentials on the cluster: a mistyped name
   * gets its ACLs all the same, and its role then fails as if its password were wrong. A client
   * certificate's principal has none, so this is a note, not an error.
   */
  private static void warnOfUnknownUsers(Admin admin, List<Assignment> assignments) {
    List<String> users =
        assignments.stream()
            .map(Assignment::principal)
            .filter(p -> p.startsWith("User:"))
            .map(p -> p.substring("User:".length()))
            .distinct()
            .toList();
    var described = admin.describeUserScramCredentials(users);
    for (String user : users) {
      try {
        described.description(user).get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof ResourceNotFoundException) {
          System.out.println(
              "note: the cluster has no SCRAM user "
                  + user
                  + ": a typo? (a client certificate's principal has none)");
        }
      } catch (Exception e) {
        return; // listing users is a courtesy: an older or differently secured cluster may refuse
      }
    }
  }

  /** The roles and principals of {@code --principal}, every mistake reported at once. */
  List<Assignment> assignments() {
    if (!acls) {
      if (!principals.isEmpty() || dryRun) {
        throw CommandFailure.badInput("--principal and --dry-run go with --acls");
      }
      return List.of();
    }
    if (principals.isEmpty()) {
      throw CommandFailure.badInput(
          "--acls needs at least one --principal ROLE=PRINCIPAL (e.g. worker=User:evalfleet-worker);"
              + " the roles are "
              + roleNames());
    }
    List<Assignment> assignments = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    for (String given : principals) {
      int eq = given.indexOf('=');
      if (eq <= 0) {
        problems.add(
            "--principal "
                + given
                + ": write ROLE=PRINCIPAL, e.g. worker=User:evalfleet-worker (roles: "
                + roleNames()
                + ")");
        continue;
      }
      try {
        FleetRole role = FleetRole.parse(given.substring(0, eq));
        String principal = given.substring(eq + 1).trim();
        RoleAcls.bindings(role, principal); // checks the principal's form
        assignments.add(new Assignment(role, principal));
      } catch (IllegalArgumentException e) {
        problems.add("--principal " + given + ": " + e.getMessage());
      }
    }
    if (!problems.isEmpty()) {
      throw CommandFailure.badInput(String.join("; ", problems));
    }
    return assignments;
  }

  private static String roleNames() {
    return String.join(", ", Arrays.stream(FleetRole.values()).map(FleetRole::cliName).toList());
  }

  /** The table of what each principal gets: resource, pattern, operation and why. */
  static void printAcls(List<Assignment> assignments, PrintStream out) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"PRINCIPAL", "ROLE", "RESOURCE", "PATTERN", "OPERATION", "WHY"});
    for (Assignment a : assignments) {
      for (RoleAcls.Grant grant : RoleAcls.grants(a.role())) {
        ResourcePattern resource = grant.resource();
        rows.add(
            new String[] {
              a.principal(),
              a.role().cliName(),
              resource.resourceType().name().toLowerCase(Locale.ROOT) + ":" + resource.name(),
              resource.patternType().name().toLowerCase(Locale.ROOT),
              grant.operation().name(),
              grant.why()
            });
      }
    }
    int[] widths = new int[5];
    for (String[] row : rows) {
      for (int i = 0; i < widths.length; i++) {
        widths[i] = Math.max(widths[i], row[i].length());
      }
    }
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < widths.length; i++) {
        line.append(String.format("%-" + widths[i] + "s  ", row[i]));
      }
      out.println(line.append(row[5]));
    }
  }

  /** The {@code kafka-acls.sh} command line that creates {@code binding}. */
  static String kafkaAclsCommand(AclBinding binding) {
    ResourcePattern resource = binding.pattern();
    String option =
        switch (resource.resourceType()) {
          case TOPIC -> "--topic";
          case GROUP -> "--group";
          case TRANSACTIONAL_ID -> "--transactional-id";
          case CLUSTER -> "--cluster";
          default -> throw new IllegalArgumentException("no kafka-acls.sh option for " + resource);
        };
    StringBuilder command =
        new StringBuilder(
            "kafka-acls.sh --bootstrap-server \"$KAFKA\" --command-config admin.properties --add");
    command.append(" --allow-principal '").append(binding.entry().principal()).append('\'');
    command.append(" --operation ").append(operationName(binding));
    command.append(' ').append(option);
    if (resource.resourceType() != ResourceType.CLUSTER) {
      command.append(' ').append(resource.name());
    }
    if (resource.patternType() == PatternType.PREFIXED) {
      command.append(" --resource-pattern-type prefixed");
    }
    return command.toString();
  }

  /** kafka-acls.sh spells operations in camel case: Read, Write, IdempotentWrite, All. */
  private static String operationName(AclBinding binding) {
    StringBuilder name = new StringBuilder();
    for (String part : binding.entry().operation().name().split("_")) {
      name.append(part.charAt(0)).append(part.substring(1).toLowerCase(Locale.ROOT));
    }
    return name.toString();
  }
}
