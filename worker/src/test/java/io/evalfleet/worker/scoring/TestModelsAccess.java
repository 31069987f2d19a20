package io.evalfleet.worker.scoring;

import io.evalfleet.common.contract.ArtifactRef;

/** Lets tests in other packages use the MiniLM test models. */
public final class TestModelsAccess {
  private TestModelsAccess() {}

  public static ArtifactRef fp32() throws java.io.IOException {
    return TestModels.fp32();
  }
}
