package io.evalfleet.cli;

import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.metrics.Observability;
import java.io.IOException;
import java.net.BindException;
import java.util.function.BooleanSupplier;

/** Starts a role's HTTP endpoints on {@code metrics.port} and says where they are. */
public final class Endpoints {
  private Endpoints() {}

  public static void serve(Observability observability, FleetConfig config, BooleanSupplier alive)
      throws IOException {
    int port = config.get(FleetConfig.METRICS_PORT);
    if (port < 0) {
      return;
    }
    try {
      observability.serve(port, alive, alive);
    } catch (BindException e) {
      throw CommandFailure.badInput(
          "metrics.port "
              + port
              + " is already in use on this machine (another evalfleet"
              + " role, or `evalfleet local`?): give this one its own with -D metrics.port=<port>, or 0 for any free port");
    }
    System.err.println(
        "metrics on http://localhost:"
            + observability.port()
            + "/metrics, health on /health/live and /health/ready");
  }
}
