package io.evalfleet.common.kafka.acl;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The principals a secured cluster tells apart: each process of the fleet, and each kind of client
 * outside it, connects as the principal of its role and gets only that role's access ({@link
 * RoleAcls}).
 */
public enum FleetRole {
  /** {@code evalfleet dispatcher}: the Kafka Streams application that plans runs and flags them. */
  DISPATCHER("dispatcher"),
  /** {@code evalfleet worker}: runs model files, so it must not be able to decide anything. */
  WORKER("worker"),
  /** {@code evalfleet notifier}: turns flags into pull-request reviews. */
  NOTIFIER("notifier"),
  /** {@code evalfleet monitor}: checks production models on their traffic. */
  MONITOR("monitor"),
  /** A training pipeline ({@code evalfleet submit}, kcat, ...): stages events, waits for flags. */
  SUBMITTER("submitter"),
  /** A promotion service: reads flags, nothing else. */
  PROMOTION_READER("promotion-reader"),
  /** Whoever runs {@code evalfleet baseline pin|promote}: moves the production baselines. */
  BASELINE_MANAGER("baseline-manager");

  private final String cliName;

  FleetRole(String cliName) {
    this.cliName = cliName;
  }

  /** The role's name on the command line and in the documentation, e.g. {@code worker}. */
  public String cliName() {
    return cliName;
  }

  /** The role a command-line name names; the error lists the names there are. */
  public static FleetRole parse(String name) {
    String wanted = name.trim().toLowerCase(Locale.ROOT);
    return Arrays.stream(values())
        .filter(r -> r.cliName.equals(wanted))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "unknown role '"
                        + name
                        + "': the roles are "
                        + Arrays.stream(values())
                            .map(FleetRole::cliName)
                            .collect(Collectors.joining(", "))));
  }
}
