package io.evalfleet.scoring.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MachineTest {
  @TempDir Path dir;

  @Test
  void cpuModelIsTheFirstModelNameOfCpuinfo() throws Exception {
    Path cpuinfo = dir.resolve("cpuinfo");
    Files.writeString(
        cpuinfo,
        "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel\t\t: 106\n"
            + "model name\t: Intel(R) Xeon(R)   Platinum 8375C CPU @ 2.90GHz\n\n"
            + "processor\t: 1\nmodel name\t: Something else\n");

    assertThat(Machine.cpuModel(cpuinfo)).hasValue("Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz");
  }

  @Test
  void aMachineThatDoesNotTellGivesNothing() {
    assertThat(Machine.cpuModel(dir.resolve("absent"))).isEmpty();
    assertThat(Machine.gpuName(dir.resolve("absent"))).isEmpty();
  }

  @Test
  void gpuNameIsTheModelLineOfTheFirstGpu() throws Exception {
    Path gpu = Files.createDirectories(dir.resolve("gpus").resolve("0000:01:00.0"));
    Files.writeString(
        gpu.resolve("information"),
        "Model: \t\t NVIDIA H100 80GB HBM3\nIRQ:   \t\t 16\nGPU UUID: \t GPU-1234\n");

    assertThat(Machine.gpuName(dir.resolve("gpus"))).hasValue("NVIDIA H100 80GB HBM3");
  }
}
