package io.evalfleet.scoring;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The packages of this module depend on each other in one direction only, and scoring knows no
 * role: nothing here reaches the worker, the monitor or the command line, or opens a Kafka client.
 */
@AnalyzeClasses(
    packages = "io.evalfleet.scoring",
    importOptions = ImportOption.DoNotIncludeTests.class)
class PackageCyclesTest {
  @ArchTest
  static final ArchRule packagesAreFreeOfCycles =
      slices().matching("io.evalfleet.scoring.(*)..").should().beFreeOfCycles();

  @ArchTest
  static final ArchRule scoringKnowsNoRole =
      noClasses()
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              "io.evalfleet.worker..",
              "io.evalfleet.monitor..",
              "io.evalfleet.cli..",
              "io.evalfleet.dispatcher..",
              "io.evalfleet.notifier..",
              "org.apache.kafka..",
              "io.evalfleet.common.kafka..");
}
