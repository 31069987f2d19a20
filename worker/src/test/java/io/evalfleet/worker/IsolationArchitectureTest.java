package io.evalfleet.worker;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * A job scored alone must not touch Kafka: the process that scores it is no member of the workers'
 * group, and it reaches nothing but what scoring reaches (the scorers, models, subsets, storage).
 */
@AnalyzeClasses(
    packages = {"io.evalfleet.worker", "io.evalfleet.scoring"},
    importOptions = ImportOption.DoNotIncludeTests.class)
class IsolationArchitectureTest {
  @ArchTest
  static final ArchRule scoringAloneOpensNoKafkaClient =
      noClasses()
          .that()
          .resideInAnyPackage("io.evalfleet.scoring..")
          .or()
          .belongToAnyOf(
              ScoreOneJob.class,
              IsolatedJob.class,
              IsolatedScoring.class,
              Isolation.class,
              Evidence.class,
              LogLines.class)
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage("org.apache.kafka..", "io.evalfleet.common.kafka..");
}
