package io.evalfleet.common.kafka.acl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.evalfleet.common.kafka.Topics;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class RoleAclsTest {
  @ParameterizedTest
  @EnumSource(FleetRole.class)
  void noRoleGetsAnythingOnTheClusterOrAnyTopicByWildcard(FleetRole role) {
    for (AclBinding binding : RoleAcls.bindings(role, "User:someone")) {
      assertThat(binding.pattern().resourceType()).isNotEqualTo(ResourceType.CLUSTER);
      assertThat(binding.pattern().name()).isNotEqualTo("*");
      assertThat(binding.entry().permissionType()).isEqualTo(AclPermissionType.ALLOW);
      assertThat(binding.entry().principal()).isEqualTo("User:someone");
      if (binding.pattern().resourceType() == ResourceType.TOPIC
          && binding.pattern().patternType() == PatternType.PREFIXED) {
        assertThat(role)
            .as("only the dispatcher's internal topics are granted by prefix: %s", binding)
            .isEqualTo(FleetRole.DISPATCHER);
        assertThat(binding.pattern().name()).isEqualTo("evalfleet-dispatcher-");
      }
    }
  }

  @Test
  void onlyTheDispatcherWritesFlags() {
    for (FleetRole role : FleetRole.values()) {
      assertThat(writes(role, Topics.DRIFT_FLAGS))
          .as("%s writes the flags", role)
          .isEqualTo(role == FleetRole.DISPATCHER);
    }
  }

  @Test
  void onlyTheDispatcherAndTheBaselineManagerWriteBaselines() {
    for (FleetRole role : FleetRole.values()) {
      assertThat(writes(role, Topics.BASELINES))
          .as("%s writes the baselines", role)
          .isEqualTo(role == FleetRole.DISPATCHER || role == FleetRole.BASELINE_MANAGER);
    }
  }

  @Test
  void aPromotionReaderReadsFlagsAndNothingElse() {
    List<AclBinding> bindings = RoleAcls.bindings(FleetRole.PROMOTION_READER, "User:p");
    assertThat(bindings)
        .allSatisfy(b -> assertThat(b.entry().operation()).isEqualTo(AclOperation.READ));
    assertThat(
            bindings.stream()
                .filter(b -> b.pattern().resourceType() == ResourceType.TOPIC)
                .map(b -> b.pattern().name()))
        .containsExactly(Topics.DRIFT_FLAGS);
  }

  @Test
  void aSubmitterCannotReadResultsNorJobs() {
    assertThat(reads(FleetRole.SUBMITTER, Topics.RESULTS)).isFalse();
    assertThat(reads(FleetRole.SUBMITTER, Topics.JOBS)).isFalse();
    assertThat(writes(FleetRole.SUBMITTER, Topics.STAGED)).isTrue();
  }

  @Test
  void aWorkerCannotStageNorDecide() {
    for (String topic : List.of(Topics.STAGED, Topics.DRIFT_FLAGS, Topics.BASELINES, Topics.JOBS)) {
      assertThat(writes(FleetRole.WORKER, topic)).as(topic).isFalse();
    }
    assertThat(writes(FleetRole.WORKER, Topics.RESULTS)).isTrue();
  }

  @Test
  void everyGrantSaysWhy() {
    for (FleetRole role : FleetRole.values()) {
      assertThat(RoleAcls.grants(role))
          .isNotEmpty()
          .allSatisfy(g -> assertThat(g.why()).isNotBlank());
    }
  }

  @Test
  void aPrincipalWithoutItsTypeIsRefused() {
    assertThatThrownBy(() -> RoleAcls.bindings(FleetRole.WORKER, "evalfleet-worker"))
        .hasMessageContaining("has no type")
        .hasMessageContaining("User:");
  }

  @Test
  void rolesParseByTheirCommandLineNames() {
    assertThat(FleetRole.parse("promotion-reader")).isEqualTo(FleetRole.PROMOTION_READER);
    assertThat(Arrays.stream(FleetRole.values()).map(FleetRole::cliName)).doesNotHaveDuplicates();
    assertThatThrownBy(() -> FleetRole.parse("wroker"))
        .hasMessageContaining("unknown role 'wroker'")
        .hasMessageContaining("worker");
  }

  private static boolean writes(FleetRole role, String topic) {
    return grants(role, topic, Set.of(AclOperation.WRITE, AclOperation.ALL));
  }

  private static boolean reads(FleetRole role, String topic) {
    return grants(role, topic, Set.of(AclOperation.READ, AclOperation.ALL));
  }

  private static boolean grants(FleetRole role, String topic, Set<AclOperation> operations) {
    return RoleAcls.bindings(role, "User:x").stream()
        .anyMatch(
            b ->
                b.pattern().resourceType() == ResourceType.TOPIC
                    && operations.contains(b.entry().operation())
                    && (b.pattern().patternType() == PatternType.LITERAL
                        ? b.pattern().name().equals(topic)
                        : topic.startsWith(b.pattern().name())));
  }
}
