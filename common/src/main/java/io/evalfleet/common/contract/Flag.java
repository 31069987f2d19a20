package io.evalfleet.common.contract;

/** The verdict a promotion service acts on. */
public enum Flag {
  /** No metric moved beyond its tolerance. */
  GREEN,
  /** Something moved enough to look at, or there was nothing to compare with. */
  WARN,
  /** A metric degraded beyond its tolerance: do not promote. */
  RED,
  /** The version could not be evaluated; the reasons say why. */
  ERROR,
  /** Not every shard was scored before the run's deadline; the coverage says how much was. */
  INCOMPLETE;

  /** The more severe of two flags, in declaration order (GREEN least, INCOMPLETE most). */
  public static Flag worst(Flag a, Flag b) {
    return a.ordinal() >= b.ordinal() ? a : b;
  }
}
