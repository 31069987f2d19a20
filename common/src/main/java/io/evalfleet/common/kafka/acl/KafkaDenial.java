package io.evalfleet.common.kafka.acl;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * A secured cluster refusing a client: its credentials ({@link AuthenticationException}) or its
 * access to a topic, a group, a transactional id or the cluster ({@link AuthorizationException}).
 * No retry helps, so the clients of the fleet stop at once and say what the principal lacks and
 * which roles' ACLs ({@link RoleAcls}) would give it, instead of retrying until a timeout or
 * restarting forever.
 *
 * @param resourceType what was refused: a topic, a group, a transactional id, the cluster, or
 *     {@link ResourceType#UNKNOWN} for the credentials themselves
 * @param names the topics or groups named by the broker (empty where it names none)
 * @param detail the broker's own words (never a secret: Kafka's messages hold no credentials)
 */
public record KafkaDenial(ResourceType resourceType, List<String> names, String detail) {
  /** The command that applies a role's ACLs, as an operator types it. */
  public static final String APPLY_HINT = "evalfleet topics --acls --principal ROLE=User:NAME";

  public KafkaDenial {
    names = List.copyOf(names);
  }

  /** The denial that {@code failure} is or is caused by, if any. */
  public static Optional<KafkaDenial> of(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof TopicAuthorizationException e) {
        return Optional.of(
            new KafkaDenial(ResourceType.TOPIC, sorted(e.unauthorizedTopics()), e.getMessage()));
      }
      if (t instanceof GroupAuthorizationException e) {
        return Optional.of(
            new KafkaDenial(
                ResourceType.GROUP,
                e.groupId() == null ? List.of() : List.of(e.groupId()),
                e.getMessage()));
      }
      if (t instanceof TransactionalIdAuthorizationException e) {
        return Optional.of(
            new KafkaDenial(ResourceType.TRANSACTIONAL_ID, List.of(), e.getMessage()));
      }
      if (t instanceof ClusterAuthorizationException e) {
        return Optional.of(new KafkaDenial(ResourceType.CLUSTER, List.of(), e.getMessage()));
      }
      if (t instanceof AuthorizationException e) {
        return Optional.of(new KafkaDenial(ResourceType.ANY, List.of(), e.getMessage()));
      }
      if (t instanceof AuthenticationException e) {
        // A TLS handshake's reason (an untrusted certificate, ...) is in its causes, not its
        // message.
        String detail = e.getMessage();
        if (e instanceof SslAuthenticationException) {
          Throwable root = e;
          while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
          }
          if (root != e && root.getMessage() != null) {
            detail = detail + ": " + root.getMessage();
          }
        }
        return Optional.of(new KafkaDenial(ResourceType.UNKNOWN, List.of(), detail));
      }
    }
    return Optional.empty();
  }

  /** Whether {@code failure} is, or is caused by, a denial by the cluster. */
  public static boolean isDenial(Throwable failure) {
    return of(failure).isPresent();
  }

  /** What to check when the handshake or the credentials failed, by what the detail says. */
  private String check() {
    String said = detail == null ? "" : detail;
    if (said.contains("certification path") || said.contains("PKIX")) {
      return "the broker's certificate is not signed by a certificate authority this client trusts:"
          + " check the truststore (kafka.ssl.truststore.*)";
    }
    if (said.contains("SSL handshake failed")) {
      return "check the truststore (kafka.ssl.truststore.*) and, for mutual TLS, the key store"
          + " (kafka.ssl.keystore.*) this command runs with";
    }
    return "check the user name and password (kafka.sasl.jaas.config) this command runs with";
  }

  /** Whether the cluster refused the credentials rather than an operation. */
  public boolean authentication() {
    return resourceType == ResourceType.UNKNOWN;
  }

  /**
   * One line for an operator: what was refused, to whom it is allowed, and how to grant it.
   *
   * @param attempted what the client tried, e.g. {@link AclOperation#WRITE} for a producer; {@code
   *     null} where it is not known (the line then lists each role's operations on the resource)
   */
  public String message(AclOperation attempted) {
    return message(attempted, null);
  }

  /**
   * As {@link #message(AclOperation)}, for a client that runs as {@code role}: the command it
   * points at names the role.
   */
  public String message(AclOperation attempted, FleetRole role) {
    String apply =
        role == null
            ? APPLY_HINT
            : "evalfleet topics --acls --principal " + role.cliName() + "=User:NAME";
    if (authentication()) {
      return "Kafka refused the credentials (authentication failed: " + detail + "): " + check();
    }
    if (resourceType == ResourceType.CLUSTER) {
      // KIP-679: a producer gets its producer id with WRITE on any topic; without one, the cluster
      // refuses it before any topic is named.
      String producer =
          "a producer is refused its producer id when the principal may WRITE on no topic at all";
      return "Kafka denied this principal an operation on the cluster ("
          + detail
          + "): "
          + (attempted == AclOperation.WRITE
              ? producer + "; apply the ACLs of the role it runs as with `" + apply + "`"
              : producer
                  + ", and creating topics and ACLs takes an administrator's principal (CREATE"
                  + " and ALTER on the cluster)");
    }
    if (resourceType == ResourceType.TRANSACTIONAL_ID) {
      return "Kafka denied this principal a transactional id ("
          + detail
          + "); "
          + whoMay(ResourceType.TRANSACTIONAL_ID, null, attempted)
          + "; apply a role's ACLs with `"
          + apply
          + "`";
    }
    String what =
        switch (resourceType) {
          case TOPIC -> names.size() == 1 ? "topic" : "topics";
          case GROUP -> "consumer group";
          default -> "a resource";
        };
    String operation = attempted == null ? "access" : attempted.name();
    String subject = names.isEmpty() ? what : what + " " + String.join(", ", names);
    List<String> whoMay = new ArrayList<>();
    for (String name : names.isEmpty() ? List.of("") : names) {
      whoMay.add(whoMay(resourceType, name, attempted));
    }
    return "Kafka denied this principal "
        + operation
        + " on "
        + subject
        + " ("
        + String.join("; ", new TreeSet<>(whoMay))
        + "): apply the ACLs of the role it runs as with `"
        + apply
        + "`";
  }

  /**
   * Which roles {@link RoleAcls} allow {@code attempted} (or any operation) on the resource, e.g.
   * "roles with WRITE on evalfleet.staged: submitter".
   */
  static String whoMay(ResourceType type, String name, AclOperation attempted) {
    Map<String, Collection<String>> byOperation = new TreeMap<>();
    for (FleetRole role : FleetRole.values()) {
      for (RoleAcls.Grant grant : RoleAcls.grants(role)) {
        if (matches(grant.resource(), type, name) && implies(grant.operation(), attempted)) {
          String op = attempted == null ? grant.operation().name() : attempted.name();
          byOperation.computeIfAbsent(op, k -> new TreeSet<>()).add(role.cliName());
        }
      }
    }
    String on = name == null || name.isEmpty() ? "it" : name;
    if (byOperation.isEmpty()) {
      return "no role of the fleet has "
          + (attempted == null ? "access" : attempted.name())
          + " on "
          + on;
    }
    return "on "
        + on
        + ": "
        + byOperation.entrySet().stream()
            .map(e -> e.getKey() + " for " + String.join(", ", e.getValue()))
            .collect(Collectors.joining("; "));
  }

  private static boolean matches(ResourcePattern pattern, ResourceType type, String name) {
    if (pattern.resourceType() != type) {
      return false;
    }
    if (name == null || name.isEmpty()) {
      return true;
    }
    return pattern.patternType() == PatternType.PREFIXED
        ? name.startsWith(pattern.name())
        : pattern.name().equals(name);
  }

  /** Kafka's implications: ALL allows everything, READ and WRITE allow DESCRIBE. */
  private static boolean implies(AclOperation granted, AclOperation attempted) {
    if (attempted == null || granted == attempted || granted == AclOperation.ALL) {
      return true;
    }
    return attempted == AclOperation.DESCRIBE
        && Arrays.asList(AclOperation.READ, AclOperation.WRITE).contains(granted);
  }

  private static List<String> sorted(Collection<String> names) {
    return names == null ? List.of() : List.copyOf(new TreeSet<>(names));
  }
}
