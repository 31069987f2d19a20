package io.evalfleet.cli.observability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.evalfleet.common.config.FleetConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Kubernetes manifests and the compose file hold together with the fleet's own settings and
 * names.
 */
class DeploymentManifestTest {
  static final Path DEPLOY = DashboardStructureTest.ROOT.resolve("deploy");

  static List<JsonNode> k8s() throws Exception {
    List<JsonNode> docs = new ArrayList<>();
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    try (Stream<Path> files = Files.list(DEPLOY.resolve("k8s"))) {
      for (Path file : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        try (var parser = new YAMLFactory().createParser(file.toFile())) {
          yaml.readValues(parser, JsonNode.class)
              .forEachRemaining(
                  doc -> {
                    if (doc != null && !doc.isNull() && !doc.isMissingNode()) {
                      docs.add(doc);
                    }
                  });
        }
      }
    }
    return docs;
  }

  @Test
  void everyManifestIsNamedInTheNamespaceAndTheSettingsItSetsExist() throws Exception {
    Map<String, JsonNode> byKindAndName = new HashMap<>();
    for (JsonNode doc : k8s()) {
      String kind = doc.path("kind").asText();
      assertThat(doc.path("apiVersion").asText()).as(kind).isNotBlank();
      assertThat(doc.path("metadata").path("name").asText()).as(kind).isNotBlank();
      if (!kind.equals("Namespace")) {
        assertThat(doc.path("metadata").path("namespace").asText()).as(kind).isEqualTo("evalfleet");
      }
      byKindAndName.put(kind + "/" + doc.path("metadata").path("name").asText(), doc);
    }
    assertThat(byKindAndName)
        .containsKeys(
            "Deployment/evalfleet-dispatcher",
            "Deployment/evalfleet-worker",
            "Deployment/evalfleet-worker-cuda",
            "ScaledObject/evalfleet-worker",
            "TriggerAuthentication/evalfleet-kafka",
            "ConfigMap/evalfleet",
            "Secret/evalfleet-kafka",
            "Job/evalfleet-topics",
            "PodMonitor/evalfleet-workers");

    Map<String, String> config = new HashMap<>();
    byKindAndName
        .get("ConfigMap/evalfleet")
        .path("data")
        .fields()
        .forEachRemaining(e -> config.put(e.getKey(), e.getValue().asText()));
    List<String> envNames = FleetConfig.SETTINGS.stream().map(s -> s.envName()).toList();
    assertThat(envNames)
        .as("every EVALFLEET_* variable the ConfigMap sets is a setting")
        .containsAll(config.keySet());
    // The settings the manifests set must be valid settings: parse them as a role would.
    Map<String, String> settings = new HashMap<>();
    FleetConfig.SETTINGS.forEach(
        s -> {
          if (config.containsKey(s.envName())) {
            settings.put(s.key(), config.get(s.envName()));
          }
        });
    FleetConfig parsed = FleetConfig.of(settings);

    JsonNode dispatcher = byKindAndName.get("Deployment/evalfleet-dispatcher").path("spec");
    assertThat(dispatcher.path("replicas").asInt())
        .as("dispatchers share the runs and take them over")
        .isGreaterThan(1);
    assertThat(dispatcher.path("strategy").path("type").asText()).isEqualTo("RollingUpdate");
    JsonNode dispatcherPod = dispatcher.path("template").path("spec");
    Map<String, String> dispatcherEnv = new HashMap<>();
    dispatcherPod
        .path("containers")
        .get(0)
        .path("env")
        .forEach(e -> dispatcherEnv.put(e.path("name").asText(), e.path("value").asText()));
    String stateDir = dispatcherEnv.get(FleetConfig.DISPATCHER_STATE_DIR.envName());
    assertThat(stateDir).as("the dispatcher's state directory is set").isNotNull();
    assertThat(
            dispatcherPod
                .path("containers")
                .get(0)
                .path("volumeMounts")
                .findValuesAsText("mountPath"))
        .as("and mounted")
        .contains(stateDir);

    Duration drain = parsed.get(FleetConfig.DRAIN_TIMEOUT);
    for (String worker :
        List.of("Deployment/evalfleet-worker", "Deployment/evalfleet-worker-cuda")) {
      JsonNode pod = byKindAndName.get(worker).path("spec").path("template").path("spec");
      assertThat(pod.path("terminationGracePeriodSeconds").asLong())
          .as("%s outlives its drain", worker)
          .isGreaterThan(drain.toSeconds());
      JsonNode container = pod.path("containers").get(0);
      assertThat(container.path("livenessProbe").path("httpGet").path("path").asText())
          .isEqualTo("/health/live");
      assertThat(container.path("readinessProbe").path("httpGet").path("path").asText())
          .isEqualTo("/health/ready");
      assertThat(container.path("ports").get(0).path("containerPort").asInt())
          .isEqualTo(parsed.get(FleetConfig.METRICS_PORT));
    }

    JsonNode trigger =
        byKindAndName.get("ScaledObject/evalfleet-worker").path("spec").path("triggers").get(0);
    assertThat(trigger.path("type").asText()).isEqualTo("kafka");
    assertThat(trigger.path("metadata").path("consumerGroup").asText())
        .isEqualTo(io.evalfleet.worker.WorkerRole.GROUP);
    assertThat(trigger.path("metadata").path("topic").asText())
        .isEqualTo(io.evalfleet.common.kafka.Topics.JOBS);
    assertThat(
            byKindAndName
                .get("ScaledObject/evalfleet-worker")
                .path("spec")
                .path("scaleTargetRef")
                .path("name")
                .asText())
        .isEqualTo("evalfleet-worker");
  }

  @Test
  void everyRoleReachesTheStoreThroughTheServiceAccountsRoleWithNoKeyPairInTheSettings()
      throws Exception {
    List<JsonNode> docs = k8s();
    JsonNode account =
        docs.stream()
            .filter(d -> d.path("kind").asText().equals("ServiceAccount"))
            .findFirst()
            .orElseThrow();
    assertThat(
            account
                .path("metadata")
                .path("annotations")
                .path("eks.amazonaws.com/role-arn")
                .asText())
        .startsWith("arn:aws:iam::");
    String name = account.path("metadata").path("name").asText();
    List<JsonNode> deployments =
        docs.stream().filter(d -> d.path("kind").asText().equals("Deployment")).toList();
    assertThat(deployments).isNotEmpty();
    for (JsonNode deployment : deployments) {
      assertThat(
              deployment
                  .path("spec")
                  .path("template")
                  .path("spec")
                  .path("serviceAccountName")
                  .asText())
          .as("%s", deployment.path("metadata").path("name").asText())
          .isEqualTo(name);
    }

    JsonNode secret =
        docs.stream()
            .filter(d -> d.path("kind").asText().equals("Secret"))
            .findFirst()
            .orElseThrow();
    java.util.Properties file = new java.util.Properties();
    file.load(
        new java.io.StringReader(secret.path("stringData").path("evalfleet.properties").asText()));
    FleetConfig config = FleetConfig.load(file, Map.of(), Map.of());
    assertThat(config.hadoopProperties()).containsKey("fs.s3a.endpoint.region");
    assertThat(config.hadoopProperties().keySet())
        .as("credentials come from the service account, not the settings")
        .noneMatch(k -> FleetConfig.isSecret("hadoop." + k));
  }

  @Test
  void composeRunsEveryRoleWithTheFleetsSettings() throws Exception {
    JsonNode compose = new YAMLMapper().readTree(DEPLOY.resolve("compose/compose.yaml").toFile());
    assertThat(compose.path("services").fieldNames())
        .toIterable()
        .contains("kafka", "topics", "dispatcher", "worker", "prometheus", "grafana");
    List<String> envNames = FleetConfig.SETTINGS.stream().map(s -> s.envName()).toList();
    compose
        .path("services")
        .fields()
        .forEachRemaining(
            service ->
                service
                    .getValue()
                    .path("environment")
                    .fieldNames()
                    .forEachRemaining(
                        name -> {
                          if (name.startsWith("EVALFLEET_")) {
                            assertThat(envNames)
                                .as("%s sets %s", service.getKey(), name)
                                .contains(name);
                          }
                        }));
  }
}
