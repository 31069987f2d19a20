package io.evalfleet.dispatcher.topology;

import static com.tngtech.archunit.core.domain.JavaCall.Predicates.target;
import static com.tngtech.archunit.core.domain.properties.HasName.Predicates.name;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * The allowed calls between the topology's classes: the processor calls the steps, the steps do not
 * know each other (what one step's work leads to, the processor passes to the next), and the state
 * stores are reached through the run book's named operations only.
 */
@AnalyzeClasses(
    packages = "io.evalfleet.dispatcher",
    importOptions = ImportOption.DoNotIncludeTests.class)
class StepCallsTest {
  /** The steps of the dispatch processor, with their nested result types. */
  static final Class<?>[] STEPS = {
    Intake.class,
    Collector.class,
    FlowControl.class,
    Conclusion.class,
    DecisionQueue.class,
    Looks.class
  };

  @ArchTest
  static final ArchRule onlyTheProcessorCallsTheSteps =
      classes()
          .that()
          .belongToAnyOf(STEPS)
          .should(beUsedOnlyByTheProcessorOrThemselves())
          .because(
              "the processor calls the steps, and a step that needs another's result gets it from the processor");

  @ArchTest
  static final ArchRule onlyTheTopologyBuildsTheProcessor =
      classes()
          .that()
          .belongToAnyOf(DispatchProcessor.class)
          .should()
          .onlyHaveDependentClassesThat()
          .belongToAnyOf(DispatchProcessor.class, DispatcherTopology.class);

  @ArchTest
  static final ArchRule onlyTheRunBookTouchesTheStores =
      noClasses()
          .that()
          .doNotBelongToAnyOf(RunBook.class)
          .should()
          .dependOnClassesThat()
          .belongToAnyOf(KeyValueStore.class, ReadOnlyKeyValueStore.class, KeyValueIterator.class)
          .because("the steps read and write state through the run book's named operations");

  @ArchTest
  static final ArchRule onlyTheRunBookOpensTheStores =
      noClasses()
          .that()
          .doNotBelongToAnyOf(RunBook.class)
          .should()
          .callMethodWhere(target(name("getStateStore")))
          .because("the run book is the one view of the task's state stores");

  @ArchTest
  static final ArchRule onlyTheWiringNamesTheStoresPackage =
      noClasses()
          .that()
          .doNotBelongToAnyOf(RunBook.class, DispatcherTopology.class)
          .should()
          .dependOnClassesThat()
          .resideInAPackage("org.apache.kafka.streams.state..");

  /** Every class that depends on a step is the processor, or the step itself (its nested types). */
  private static ArchCondition<JavaClass> beUsedOnlyByTheProcessorOrThemselves() {
    return new ArchCondition<>("be used only by the processor or by themselves") {
      @Override
      public void check(JavaClass step, ConditionEvents events) {
        for (Dependency dependency : step.getDirectDependenciesToSelf()) {
          JavaClass origin = outermost(dependency.getOriginClass());
          boolean allowed =
              origin.isEquivalentTo(DispatchProcessor.class) || origin.equals(outermost(step));
          if (!allowed) {
            events.add(SimpleConditionEvent.violated(dependency, dependency.getDescription()));
          }
        }
      }
    };
  }

  private static JavaClass outermost(JavaClass type) {
    JavaClass outer = type;
    while (outer.getEnclosingClass().isPresent()) {
      outer = outer.getEnclosingClass().get();
    }
    return outer;
  }
}
