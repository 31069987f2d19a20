package io.evalfleet.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.dispatcher.topology.DispatcherTopology;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class TopologyDocTest {
  @Test
  void docsHoldTheTopologyTheCodeBuilds() throws Exception {
    String doc = Files.readString(Path.of("..", "docs", "topology.md"));
    String described = DispatcherRole.describeTopology(FleetConfig.defaults()).strip();
    assertThat(doc)
        .as("docs/topology.md is stale: regenerate it with scripts/regenerate-topology-doc.sh")
        .contains(described);
    for (String store :
        java.util.List.of(
            DispatcherTopology.RUNS,
            DispatcherTopology.SHARDS,
            DispatcherTopology.SHARD_RESULTS,
            DispatcherTopology.BASELINES,
            DispatcherTopology.FIRST_VERSIONS,
            DispatcherTopology.DECIDED)) {
      assertThat(described).contains(store);
      assertThat(doc).contains("| `" + store + "` |");
    }
  }
}
