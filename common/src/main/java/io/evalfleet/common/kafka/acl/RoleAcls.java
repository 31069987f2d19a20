package io.evalfleet.common.kafka.acl;

import io.evalfleet.common.kafka.Groups;
import io.evalfleet.common.kafka.Topics;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * The least access each {@link FleetRole} needs on a cluster whose authorizer denies what no ACL
 * allows. READ and WRITE imply DESCRIBE in Kafka, so DESCRIBE is granted alone only where nothing
 * more is needed. An idempotent producer needs WRITE on a topic, not IDEMPOTENT_WRITE on the
 * cluster (KIP-679), so no role gets any cluster permission.
 */
public final class RoleAcls {
  /** One resource, one operation: what an ACL allows, without its principal. */
  public record Grant(ResourcePattern resource, AclOperation operation, String why) {
    AclBinding to(String principal) {
      return new AclBinding(
          resource, new AccessControlEntry(principal, "*", operation, AclPermissionType.ALLOW));
    }
  }

  private RoleAcls() {}

  /** What {@code role} may do, with the reason for each grant. */
  public static List<Grant> grants(FleetRole role) {
    List<Grant> grants = new ArrayList<>();
    switch (role) {
      case DISPATCHER -> {
        for (String topic : List.of(Topics.STAGED, Topics.RESULTS, Topics.BASELINES)) {
          grants.add(topic(topic, AclOperation.READ, "input of the dispatcher's topology"));
        }
        for (String topic :
            List.of(
                Topics.JOBS,
                Topics.DRIFT_FLAGS,
                Topics.BASELINES,
                Topics.RUN_PROGRESS,
                Topics.DLQ,
                Topics.RESULTS,
                Topics.RUNS_CANCELLED)) {
          grants.add(topic(topic, AclOperation.WRITE, "output of the dispatcher's topology"));
        }
        grants.add(
            new Grant(
                prefixed(ResourceType.TOPIC, Groups.DISPATCHER + "-"),
                AclOperation.ALL,
                "the Streams application's internal topics (changelogs, repartition topics):"
                    + " created, read, written and purged by it"));
        grants.add(group(Groups.DISPATCHER, AclOperation.READ, "the Streams application's group"));
        grants.add(
            new Grant(
                prefixed(ResourceType.TRANSACTIONAL_ID, Groups.DISPATCHER + "-"),
                AclOperation.WRITE,
                "exactly-once processing: one transactional id per stream thread"));
        grants.add(
            group(
                Groups.WORKERS,
                AclOperation.DESCRIBE,
                "queue depth: the workers' committed offsets on the jobs topic"));
        grants.add(
            topic(
                Topics.JOBS,
                AclOperation.READ,
                "queue age: the timestamp of the oldest job the workers have not committed"));
      }
      case WORKER -> {
        grants.add(topic(Topics.JOBS, AclOperation.READ, "the jobs it scores"));
        grants.add(group(Groups.WORKERS, AclOperation.READ, "the workers' group"));
        grants.add(topic(Topics.RESULTS, AclOperation.WRITE, "shard results"));
        grants.add(topic(Topics.DLQ, AclOperation.WRITE, "jobs it cannot read"));
        grants.add(topic(Topics.RUNS_CANCELLED, AclOperation.READ, "runs whose jobs it may skip"));
      }
      case NOTIFIER -> {
        grants.add(topic(Topics.DRIFT_FLAGS, AclOperation.READ, "the flags it reviews"));
        grants.add(group(Groups.NOTIFIER, AclOperation.READ, "the notifier's group"));
        grants.add(topic(Topics.DLQ, AclOperation.WRITE, "reviews it could not deliver"));
      }
      case MONITOR -> {
        grants.add(topic(Topics.MONITOR, AclOperation.WRITE, "monitor results"));
        grants.add(topic(Topics.RETRAIN_REQUESTS, AclOperation.WRITE, "retraining requests"));
        grants.add(
            topic(
                Topics.RETRAIN_REQUESTS,
                AclOperation.READ,
                "the requests already published, so none is published twice"));
        grants.add(
            new Grant(
                prefixed(ResourceType.TRANSACTIONAL_ID, Groups.MONITOR_TRANSACTIONS),
                AclOperation.WRITE,
                "a result and its retraining request are published together"));
      }
      case SUBMITTER -> {
        grants.add(topic(Topics.STAGED, AclOperation.WRITE, "staged-weight events"));
        grants.add(topic(Topics.DRIFT_FLAGS, AclOperation.READ, "`submit --wait`: the flag"));
        grants.add(
            topic(Topics.RUN_PROGRESS, AclOperation.READ, "`submit --wait`: the run's progress"));
      }
      case PROMOTION_READER -> {
        grants.add(topic(Topics.DRIFT_FLAGS, AclOperation.READ, "the flags it acts on"));
        grants.add(
            new Grant(
                prefixed(ResourceType.GROUP, Groups.PROMOTION),
                AclOperation.READ,
                "its consumer groups, named " + Groups.PROMOTION + "*"));
      }
      case BASELINE_MANAGER -> {
        grants.add(topic(Topics.BASELINES, AclOperation.READ, "the current baselines"));
        grants.add(topic(Topics.BASELINES, AclOperation.WRITE, "a new production baseline"));
      }
    }
    return List.copyOf(grants);
  }

  /**
   * The ACLs that give {@code principal} (e.g. {@code User:evalfleet-worker}) the role's access.
   */
  public static List<AclBinding> bindings(FleetRole role, String principal) {
    checkPrincipal(principal);
    return grants(role).stream().map(g -> g.to(principal)).toList();
  }

  /**
   * Every role's grants as a Markdown table (role, resource, pattern, operation, why): the table of
   * docs/operations.md, which a test keeps equal to this.
   */
  public static String markdownTable() {
    StringBuilder out =
        new StringBuilder(
            "| role | resource | pattern | operation | why |\n|---|---|---|---|---|\n");
    for (FleetRole role : FleetRole.values()) {
      for (Grant grant : grants(role)) {
        out.append("| `")
            .append(role.cliName())
            .append("` | ")
            .append(grant.resource().resourceType().name().toLowerCase(Locale.ROOT))
            .append(" `")
            .append(grant.resource().name())
            .append("` | ")
            .append(grant.resource().patternType().name().toLowerCase(Locale.ROOT))
            .append(" | ")
            .append(grant.operation().name())
            .append(" | ")
            .append(grant.why())
            .append(" |\n");
      }
    }
    return out.toString();
  }

  /** Refuses what Kafka would store but never match, such as a principal without its type. */
  static void checkPrincipal(String principal) {
    int colon = principal.indexOf(':');
    if (colon <= 0 || colon == principal.length() - 1) {
      throw new IllegalArgumentException(
          "principal '"
              + principal
              + "' has no type: write it as Kafka does, e.g. User:evalfleet-worker (SASL) or"
              + " User:CN=worker-1,OU=ml (a TLS client certificate without a mapping rule)");
    }
  }

  private static Grant topic(String topic, AclOperation operation, String why) {
    return new Grant(
        new ResourcePattern(ResourceType.TOPIC, topic, PatternType.LITERAL), operation, why);
  }

  private static Grant group(String group, AclOperation operation, String why) {
    return new Grant(
        new ResourcePattern(ResourceType.GROUP, group, PatternType.LITERAL), operation, why);
  }

  private static ResourcePattern prefixed(ResourceType type, String prefix) {
    return new ResourcePattern(type, prefix, PatternType.PREFIXED);
  }
}
