package io.evalfleet.laptop.bench;

import picocli.CommandLine.Command;

/** Benchmarks that print figures measured side by side in one run. */
@Command(
    name = "bench",
    description = "Benchmarks, each next to a bare ONNX Runtime loop on the same inputs.",
    subcommands = {
      PerplexityBench.class,
      WorkerBench.class,
      CausalWorkerBench.class,
      NllHeadBench.class,
      BootstrapBench.class,
      DecideMillionBench.class,
      DispatcherBench.class,
      ReviewBench.class,
      RetrievalBench.class,
      SequentialBench.class,
      SequentialFleetBench.class,
      StagingToFlagBench.class,
      StorageBench.class
    })
public final class BenchCommand {}
