package io.evalfleet.worker;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The worker module is its role: {@link WorkerRole} is the one public class, and the job handler
 * and the isolation behind it stay package-private (the child JVM's main class is started by name,
 * which needs no public class).
 */
@AnalyzeClasses(
    packages = "io.evalfleet.worker",
    importOptions = ImportOption.DoNotIncludeTests.class)
class PublicSurfaceTest {
  @ArchTest
  static final ArchRule onlyTheRoleIsPublic =
      classes()
          .that()
          .resideInAPackage("io.evalfleet.worker")
          .and()
          .areTopLevelClasses()
          .and()
          .doNotHaveSimpleName("WorkerRole")
          .should()
          .notBePublic();
}
