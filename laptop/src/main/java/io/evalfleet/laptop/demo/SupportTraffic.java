package io.evalfleet.laptop.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;

/**
 * A synthetic support-chat traffic log with a shift injected at a known hour: until then users ask
 * how to change something about their account; from then on half of them ask about parcels instead.
 * One Parquet file ({@code message}, {@code ts} in epoch milliseconds), 60 messages an hour.
 */
public final class SupportTraffic {
  public static final int PER_HOUR = 60;
  static final String[] VERBS = {
    "reset", "change", "update", "cancel", "renew", "verify", "download", "close"
  };
  static final String[] THINGS = {
    "password",
    "invoice",
    "subscription",
    "billing address",
    "payment card",
    "plan",
    "account",
    "receipt",
    "email address",
    "username"
  };
  static final String[] PLACES = {
    "Berlin", "Lisbon", "Osaka", "Denver", "Nairobi", "Quito", "Oslo", "Perth"
  };
  static final String[] STATES = {
    "stuck in customs",
    "returned to sender",
    "delivered to a neighbour",
    "lost in transit",
    "delayed by weather",
    "damaged on arrival"
  };

  private SupportTraffic() {}

  /**
   * Writes {@code hours} hours of traffic from {@code start} into {@code folder}; returns the
   * folder's URI.
   */
  public static String write(Path folder, Instant start, int hours, int shiftHour, long seed)
      throws IOException {
    return write(folder, start, hours, shiftHour, seed, SupportTraffic::text);
  }

  /** Makes one message, shifted or not. */
  @FunctionalInterface
  public interface Messages {
    String next(Random random, boolean shifted);
  }

  /** As {@link #write(Path, Instant, int, int, long)}, with messages of one's own making. */
  public static String write(
      Path folder, Instant start, int hours, int shiftHour, long seed, Messages messages)
      throws IOException {
    MessageType schema =
        Types.buildMessage()
            .required(PrimitiveTypeName.BINARY)
            .as(LogicalTypeAnnotation.stringType())
            .named("message")
            .required(PrimitiveTypeName.INT64)
            .named("ts")
            .named("traffic");
    Files.createDirectories(folder);
    Path file = folder.resolve("support.parquet");
    Random random = new Random(seed);
    SimpleGroupFactory groups = new SimpleGroupFactory(schema);
    try (var writer =
        ExampleParquetWriter.builder(
                HadoopOutputFile.fromPath(
                    new org.apache.hadoop.fs.Path(file.toUri()), new Configuration()))
            .withType(schema)
            .withWriteMode(ParquetFileWriter.Mode.OVERWRITE)
            .build()) {
      for (int hour = 0; hour < hours; hour++) {
        for (int i = 0; i < PER_HOUR; i++) {
          long at = start.plus(Duration.ofHours(hour)).toEpochMilli() + i * (3_600_000L / PER_HOUR);
          writer.write(
              groups
                  .newGroup()
                  .append("message", messages.next(random, hour >= shiftHour))
                  .append("ts", at));
        }
      }
    }
    return folder.toUri().toString();
  }

  static String text(Random random, boolean shifted) {
    if (shifted && random.nextBoolean()) {
      return "My parcel to "
          + PLACES[random.nextInt(PLACES.length)]
          + " was "
          + STATES[random.nextInt(STATES.length)]
          + ", tracking number "
          + (100000 + random.nextInt(900000))
          + ". What can I do?";
    }
    return "How do I "
        + VERBS[random.nextInt(VERBS.length)]
        + " my "
        + THINGS[random.nextInt(THINGS.length)]
        + (random.nextBoolean() ? "" : " for order " + (1000 + random.nextInt(9000)))
        + "?";
  }
}
