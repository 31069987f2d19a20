package io.evalfleet.dispatcher;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The packages of this module depend on each other in one direction only, and only the top package
 * (the wiring) may use the others: nothing below depends on it.
 */
@AnalyzeClasses(
    packages = "io.evalfleet.dispatcher",
    importOptions = ImportOption.DoNotIncludeTests.class)
class PackageCyclesTest {
  @ArchTest
  static final ArchRule packagesAreFreeOfCycles =
      slices().matching("io.evalfleet.dispatcher.(*)..").should().beFreeOfCycles();

  @ArchTest
  static final ArchRule nothingBelowDependsOnTheTopPackage =
      noClasses()
          .that()
          .resideInAPackage("io.evalfleet.dispatcher.*..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("io.evalfleet.dispatcher");
}
