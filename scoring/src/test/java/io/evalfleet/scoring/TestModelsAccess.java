package io.evalfleet.scoring;

import io.evalfleet.common.contract.ArtifactRef;

/** Lets tests in other packages use the sentence-embedding test models. */
public final class TestModelsAccess {
  private TestModelsAccess() {}

  public static ArtifactRef fp32() throws java.io.IOException {
    return TestModels.fp32();
  }

  public static ArtifactRef int8() throws java.io.IOException {
    return TestModels.int8();
  }

  public static ArtifactRef tokenizer() throws java.io.IOException {
    return TestModels.tokenizer();
  }

  public static ArtifactRef bge() throws java.io.IOException {
    return TestModels.bge();
  }

  public static ArtifactRef bgeTokenizer() throws java.io.IOException {
    return TestModels.bgeTokenizer();
  }
}
