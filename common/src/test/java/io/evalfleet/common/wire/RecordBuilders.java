package io.evalfleet.common.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * That a record's nested {@code Builder} misses none of its components: it has a setter named after
 * each, and {@code toBuilder().build()} gives back an equal record.
 */
public final class RecordBuilders {
  private RecordBuilders() {}

  /** The record's nested {@code Builder}, if it has one. */
  public static Optional<Class<?>> builderOf(Class<?> type) {
    return Arrays.stream(type.getDeclaredClasses())
        .filter(nested -> nested.getSimpleName().equals("Builder"))
        .findFirst();
  }

  /**
   * The components of {@code record} its {@code Builder} has no setter for (named, taking the
   * component's type).
   */
  public static List<String> missingSetters(Class<?> record) {
    Class<?> builder =
        builderOf(record).orElseThrow(() -> new AssertionError(record + " has no Builder"));
    return Arrays.stream(record.getRecordComponents())
        .filter(component -> !hasSetter(builder, component))
        .map(RecordComponent::getName)
        .toList();
  }

  private static boolean hasSetter(Class<?> builder, RecordComponent component) {
    try {
      Method setter = builder.getMethod(component.getName(), component.getType());
      return setter.getReturnType() == builder;
    } catch (NoSuchMethodException e) {
      return false;
    }
  }

  /**
   * When {@code value} is a record with a {@code Builder}: every component has a setter, and {@code
   * toBuilder().build()} equals it.
   */
  public static void assertComplete(Object value) {
    Class<?> type = value.getClass();
    if (!type.isRecord() || builderOf(type).isEmpty()) {
      return;
    }
    assertThat(missingSetters(type))
        .as("components of %s its Builder has no setter for", type.getSimpleName())
        .isEmpty();
    try {
      Object builder = type.getMethod("toBuilder").invoke(value);
      Object rebuilt = builder.getClass().getMethod("build").invoke(builder);
      assertThat(rebuilt).as("%s.toBuilder().build()", type.getSimpleName()).isEqualTo(value);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(type + " has no public toBuilder() and Builder.build()", e);
    }
  }
}
