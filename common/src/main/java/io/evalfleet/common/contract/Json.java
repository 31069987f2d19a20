package io.evalfleet.common.contract;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The JSON codec of the wire format: snake_case field names, ISO-8601 instants, absent fields
 * omitted, unknown fields ignored (so that newer producers can add optional fields), and no
 * coercion between strings, numbers and booleans. Every failure to read becomes a {@link
 * ContractViolation} naming the field.
 */
public final class Json {
  private static final ObjectMapper MAPPER = newMapper();

  private Json() {}

  public static ObjectMapper mapper() {
    return MAPPER;
  }

  /** Reads one message, or throws a {@link ContractViolation} that names the offending field. */
  public static <T> T read(byte[] bytes, Class<T> type) {
    if (bytes == null || bytes.length == 0) {
      throw new ContractViolation("", "message is empty");
    }
    try {
      T value = MAPPER.readValue(bytes, type);
      if (value == null) {
        throw new ContractViolation("", "message is JSON null");
      }
      return value;
    } catch (JsonMappingException e) {
      throw violation(e);
    } catch (JacksonException e) {
      // Jackson's own words, without the parser's source description inside them; where, in words.
      String what =
          e.getOriginalMessage().replaceAll("\\s*\\(start marker at \\[Source: [^\\]]*\\]\\)", "");
      var at = e.getLocation();
      throw new ContractViolation(
          "",
          "malformed JSON: "
              + what
              + (at != null && at.getLineNr() > 0
                  ? " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"
                  : ""));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static byte[] write(Object message) {
    try {
      return MAPPER.writeValueAsBytes(message);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise " + message.getClass().getSimpleName(), e);
    }
  }

  public static String writeString(Object message) {
    try {
      return MAPPER.writeValueAsString(message);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise " + message.getClass().getSimpleName(), e);
    }
  }

  private static ContractViolation violation(JsonMappingException e) {
    String path = path(e);
    if (e instanceof ValueInstantiationException && e.getCause() instanceof ContractViolation cv) {
      return cv.under(path);
    }
    if (e instanceof InvalidFormatException ife
        && ife.getTargetType() != null
        && ife.getTargetType().isEnum()) {
      return new ContractViolation(
          path,
          "must be one of "
              + Arrays.toString(enumNames(ife.getTargetType()))
              + ", got "
              + ife.getValue());
    }
    if (e instanceof MismatchedInputException
        && e.getOriginalMessage().startsWith("Cannot map `null` into type")) {
      return new ContractViolation(path, "is required"); // a missing or null number or flag
    }
    if (e instanceof MismatchedInputException mie && mie.getTargetType() != null) {
      return new ContractViolation(
          path,
          "has the wrong type: expected "
              + describe(mie.getTargetType())
              + " ("
              + e.getOriginalMessage().split("\n")[0]
              + ")");
    }
    return new ContractViolation(path, e.getOriginalMessage().split("\n")[0]);
  }

  private static String path(JsonMappingException e) {
    StringBuilder path = new StringBuilder();
    for (JsonMappingException.Reference ref : e.getPath()) {
      if (ref.getFieldName() != null) {
        if (!path.isEmpty()) {
          path.append('.');
        }
        path.append(ref.getFieldName());
      } else if (ref.getIndex() >= 0) {
        path.append('[').append(ref.getIndex()).append(']');
      }
    }
    return path.toString();
  }

  private static String[] enumNames(Class<?> type) {
    return Arrays.stream(type.getEnumConstants())
        .map(c -> MAPPER.convertValue(c, String.class))
        .toArray(String[]::new);
  }

  private static String describe(Class<?> type) {
    if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
      return "an integer";
    }
    if (type == Double.class || type == double.class || type == double[].class) {
      return type.isArray() ? "an array of numbers" : "a number";
    }
    if (type == String.class) {
      return "a string";
    }
    if (type.isRecord() || Map.class.isAssignableFrom(type)) {
      return "an object";
    }
    if (List.class.isAssignableFrom(type) || type.isArray()) {
      return "an array";
    }
    return type.getSimpleName();
  }

  private static ObjectMapper newMapper() {
    JsonMapper mapper =
        JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .addModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            // Records copy their maps with Map.copyOf, whose order changes from one JVM to the
            // next: keys
            // in order keep a message's bytes (and a lockfile's digest and diff) the same wherever
            // it is written.
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .serializationInclusion(JsonInclude.Include.NON_NULL)
            .build();
    for (LogicalType type :
        new LogicalType[] {
          LogicalType.Textual,
          LogicalType.Integer,
          LogicalType.Float,
          LogicalType.Boolean,
          LogicalType.Enum
        }) {
      mapper
          .coercionConfigFor(type)
          .setCoercion(
              CoercionInputShape.Integer,
              type == LogicalType.Integer || type == LogicalType.Float
                  ? CoercionAction.TryConvert
                  : CoercionAction.Fail)
          .setCoercion(
              CoercionInputShape.Float,
              type == LogicalType.Float ? CoercionAction.TryConvert : CoercionAction.Fail)
          .setCoercion(
              CoercionInputShape.Boolean,
              type == LogicalType.Boolean ? CoercionAction.TryConvert : CoercionAction.Fail)
          .setCoercion(
              CoercionInputShape.String,
              type == LogicalType.Textual || type == LogicalType.Enum
                  ? CoercionAction.TryConvert
                  : CoercionAction.Fail);
    }
    return mapper;
  }
}
