package io.evalfleet.common.kafka;

/**
 * The consumer groups and transactional ids of the fleet's roles: fixed names, so that access
 * control lists can name them (see {@code io.evalfleet.common.kafka.acl.RoleAcls}).
 */
public final class Groups {
  /**
   * The dispatcher's Kafka Streams application id: its consumer group, and the prefix of its
   * internal topics and transactional ids.
   */
  public static final String DISPATCHER = "evalfleet-dispatcher";

  /** The workers' consumer group on the jobs topic. */
  public static final String WORKERS = "evalfleet-workers";

  /** The notifier's consumer group on the flags topic. */
  public static final String NOTIFIER = "evalfleet-notifier";

  /** Prefix of the monitor's transactional ids: one per monitored model. */
  public static final String MONITOR_TRANSACTIONS = "evalfleet-monitor-";

  /** Prefix of the consumer groups a promotion service may use on the flags topic. */
  public static final String PROMOTION = "evalfleet-promotion";

  private Groups() {}
}
