package io.evalfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.metrics.Observability;
import java.net.ServerSocket;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EndpointsTest {
  @Test
  void aMetricsPortInUseIsNamedWithTheSettingThatMovesIt() throws Exception {
    try (ServerSocket taken = new ServerSocket(0);
        Observability observability = new Observability("test")) {
      FleetConfig config =
          FleetConfig.defaults()
              .with(Map.of(FleetConfig.METRICS_PORT.key(), Integer.toString(taken.getLocalPort())));
      assertThatThrownBy(() -> Endpoints.serve(observability, config, () -> true))
          .isInstanceOfSatisfying(
              CommandFailure.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.BAD_INPUT))
          .hasMessageContaining("metrics.port " + taken.getLocalPort() + " is already in use")
          .hasMessageContaining("-D metrics.port=");
    }
  }
}
