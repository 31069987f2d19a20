package io.evalfleet.common.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ConfigurationDocTest {
  @Test
  void docsHoldTheReferenceGeneratedFromTheCode() throws Exception {
    String doc = Files.readString(Path.of("..", "docs", "configuration.md"));
    assertThat(doc)
        .as("docs/configuration.md is stale: regenerate it with scripts/regenerate-config-doc.sh")
        .contains(FleetConfig.markdownReference());
  }
}
