package io.evalfleet.laptop;

import io.evalfleet.cli.ConfigOptions;
import io.evalfleet.cli.logging.InteractiveLogging;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.MonitorResult;
import io.evalfleet.laptop.demo.DemoAssets;
import io.evalfleet.laptop.demo.SupportTraffic;
import io.evalfleet.laptop.embedded.LocalFleet;
import io.evalfleet.monitor.MonitorRole;
import io.evalfleet.monitor.MonitorSpec;
import io.evalfleet.monitor.retrain.RetrainLedger;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "demo-monitor",
    header = "Monitors a model on two days of synthetic traffic with a shift at hour 36.",
    description =
        "Monitor a production model on its traffic, on an embedded Kafka broker: two days of synthetic support-chat traffic with a shift injected at hour 36, checked hour by hour against the first six hours with all-MiniLM-L6-v2 (MMD² permutation test); prints each window and the retraining requests, then exits (0 when the shift is caught in the first window after it).")
public final class MonitorDemoCommand implements Callable<Integer> {
  static final Instant START = Instant.parse("2026-11-01T00:00:00Z");
  static final int HOURS = 48;
  static final int SHIFT_HOUR = 36;

  @Mixin ConfigOptions config;
  @Mixin InteractiveLogging logging;

  @Option(
      names = "--work-dir",
      defaultValue = ".evalfleet/demo-monitor",
      description =
          "Where the traffic, model and" + " archive are written. Default: ${DEFAULT-VALUE}.")
  Path workDir;

  @Override
  public Integer call() throws Exception {
    System.out.println("full log: " + logging.apply("demo-monitor"));
    DemoCommand.deleteTree(workDir);
    DemoAssets.ModelFiles model = new DemoAssets(workDir).model(DemoAssets.Model.MINILM_FP32);
    String traffic = SupportTraffic.write(workDir.resolve("traffic"), START, HOURS, SHIFT_HOUR, 3);
    System.out.printf(
        "wrote %d hours of support-chat traffic (%d messages an hour) to %s; from hour %d, half the"
            + " messages ask about parcels instead of accounts%n",
        HOURS, SupportTraffic.PER_HOUR, traffic, SHIFT_HOUR);
    MonitorSpec spec =
        MonitorSpec.builder()
            .model("support-embedder")
            .version("prod-1")
            .artifact(model.onnx())
            .tokenizer(model.tokenizer())
            .traffic(new MonitorSpec.Traffic(traffic, "message", "ts"))
            .window(Duration.ofHours(1))
            .sample(40)
            .referenceStart(START)
            .referenceEnd(START.plus(Duration.ofHours(6)))
            .interval(Duration.ofHours(1))
            .alpha(0.01)
            .permutations(199)
            .seed(7)
            .retrainCadence(Duration.ofDays(1))
            .retrainSince(START)
            .subset("support-chat")
            .build();
    FleetConfig base =
        config
            .load()
            .with(
                Map.of(
                    FleetConfig.ARCHIVE_ROOT.key(),
                    workDir.toAbsolutePath().resolve("archive").toUri().toString(),
                    FleetConfig.INTRA_OP_THREADS.key(),
                    "2"));
    Instant firstDrift = null;
    int falseAlarms = 0;
    try (LocalFleet fleet = LocalFleet.start(base, 0, workDir.resolve("cache"));
        MonitorRole monitor =
            new MonitorRole(
                fleet.config(),
                spec,
                workDir.resolve("cache"),
                new SimpleMeterRegistry(),
                Clock.systemUTC())) {
      System.out.println(
          "checking hourly windows against hours 0-6 (α 0.01, 199 permutations, 40 messages a window)");
      for (int hour = 7; hour <= HOURS; hour++) {
        MonitorResult result = monitor.checkAt(START.plus(Duration.ofHours(hour)));
        System.out.printf(
            Locale.ROOT,
            "  hour %2d  %s  MMD² %.5f  p=%.4f%s%n",
            hour,
            result.drifted() ? "DRIFT   " : "no drift",
            result.mmd2(),
            result.pValue(),
            hour == SHIFT_HOUR + 1 ? "   <- first window after the shift" : "");
        if (result.drifted() && hour <= SHIFT_HOUR) {
          falseAlarms++;
        }
        if (result.drifted() && hour > SHIFT_HOUR && firstDrift == null) {
          firstDrift = result.windowEnd();
        }
      }
      System.out.println("\nretraining requests on evalfleet.retrain-requests (once per cause):");
      for (var request : RetrainLedger.read(fleet.config())) {
        System.out.println("  " + request.causeId() + ": " + request.evidence());
      }
    }
    boolean caught = START.plus(Duration.ofHours(SHIFT_HOUR + 1)).equals(firstDrift);
    System.out.printf(
        "%ndemo-monitor finished: the shift %s; %d false alarm(s) in %d windows before it.%n",
        caught
            ? "was caught in the first window after it"
            : "was NOT caught in the first window after it",
        falseAlarms,
        SHIFT_HOUR - 6);
    return caught ? 0 : 1;
  }
}
