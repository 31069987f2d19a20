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
            "ConfigMap/evalfleet-settings",
            "Secret/evalfleet-kafka-truststore",
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

    FleetConfig config = settingsAsAWorkerLoadsThem(docs);
    assertThat(config.hadoopProperties()).containsKey("fs.s3a.endpoint.region");
    assertThat(config.hadoopProperties().keySet())
        .as("credentials come from the service account, not the settings")
        .noneMatch(k -> FleetConfig.isSecret("hadoop." + k));
  }

  /**
   * The settings file of config.yaml, loaded with the worker's Secret of secrets.example.yaml
   * mounted where the references look for it (under a temporary directory instead of /etc).
   */
  private FleetConfig settingsAsAWorkerLoadsThem(List<JsonNode> docs) throws Exception {
    JsonNode settings = named(docs, "ConfigMap", "evalfleet-settings");
    JsonNode workerSecret = named(docs, "Secret", "evalfleet-kafka-worker");
    Path kafka = Files.createDirectories(etc.resolve("kafka"));
    workerSecret
        .path("stringData")
        .fields()
        .forEachRemaining(
            e -> {
              try {
                Files.writeString(kafka.resolve(e.getKey()), e.getValue().asText());
              } catch (java.io.IOException ex) {
                throw new java.io.UncheckedIOException(ex);
              }
            });
    String text =
        settings
            .path("data")
            .path("evalfleet.properties")
            .asText()
            .replace("/etc/evalfleet/", etc + "/");
    java.util.Properties file = new java.util.Properties();
    file.load(new java.io.StringReader(text));
    return FleetConfig.load(file, Map.of(), Map.of());
  }

  @org.junit.jupiter.api.io.TempDir Path etc;

  private static JsonNode named(List<JsonNode> docs, String kind, String name) {
    return docs.stream()
        .filter(d -> d.path("kind").asText().equals(kind))
        .filter(d -> d.path("metadata").path("name").asText().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + "/" + name));
  }

  @Test
  void theSettingsFileReferencesTheMountedKafkaCredentialsAndShowsNoSecret() throws Exception {
    FleetConfig config = settingsAsAWorkerLoadsThem(k8s());
    assertThat((String) config.kafkaClientProperties().get("sasl.jaas.config"))
        .contains("username=\"evalfleet-worker\"", "password=\"REPLACE-ME\"");
    assertThat(config.printableSettings().get("kafka.sasl.jaas.config"))
        .contains("password=\"${dir:")
        .doesNotContain("REPLACE-ME");
  }

  /** The pods' containers, each with its role (the component label). */
  private static Map<String, List<JsonNode>> podsByRole(List<JsonNode> docs) {
    Map<String, List<JsonNode>> pods = new HashMap<>();
    for (JsonNode doc : docs) {
      JsonNode pod = doc.path("spec").path("template").path("spec");
      if (pod.has("containers")) {
        String role =
            doc.path("metadata").path("labels").path("app.kubernetes.io/component").asText();
        pods.computeIfAbsent(role, r -> new ArrayList<>()).add(pod);
      }
    }
    return pods;
  }

  @Test
  void eachRoleMountsItsOwnKafkaPrincipalReadOnlyForItsUserOnly() throws Exception {
    Map<String, List<JsonNode>> pods = podsByRole(k8s());
    assertThat(pods).containsKeys("dispatcher", "worker", "notifier", "monitor", "topics");
    pods.forEach(
        (role, list) -> {
          for (JsonNode pod : list) {
            JsonNode kafka = null;
            for (JsonNode volume : pod.path("volumes")) {
              if (volume.path("name").asText().equals("kafka")) {
                kafka = volume;
              }
            }
            assertThat(kafka).as("%s mounts a kafka volume", role).isNotNull();
            assertThat(kafka.path("secret").path("secretName").asText())
                .isEqualTo("evalfleet-kafka-" + role);
            assertThat(kafka.path("secret").path("defaultMode").asInt()).isEqualTo(0400);
            JsonNode mount =
                pod.path("containers").get(0).path("volumeMounts").findParents("name").stream()
                    .filter(m -> m.path("name").asText().equals("kafka"))
                    .findFirst()
                    .orElseThrow();
            assertThat(mount.path("mountPath").asText()).isEqualTo("/etc/evalfleet/kafka");
            assertThat(mount.path("readOnly").asBoolean()).as("%s", role).isTrue();
          }
        });
  }

  @Test
  void noManifestPutsASecretInClearInAnEnvironmentValueOrAnArgumentOrASecret() throws Exception {
    List<JsonNode> docs = k8s();
    podsByRole(docs)
        .forEach(
            (role, list) -> {
              for (JsonNode pod : list) {
                for (JsonNode container : pod.path("containers")) {
                  for (JsonNode env : container.path("env")) {
                    String name = env.path("name").asText();
                    String key = name.toLowerCase(java.util.Locale.ROOT).replace('_', '.');
                    if (env.has("value") && FleetConfig.isSecret(key)) {
                      assertThat(env.path("value").asText())
                          .as("%s: %s must name a file, not hold the secret", role, name)
                          .startsWith("/");
                    }
                    assertThat(env.path("value").asText())
                        .as("%s: %s", role, name)
                        .doesNotContainPattern("(?i)password\\s*=\\s*\"[^$]");
                  }
                  List<String> args = new ArrayList<>();
                  container.path("args").forEach(a -> args.add(a.asText()));
                  container.path("command").forEach(a -> args.add(a.asText()));
                  for (int i = 0; i < args.size(); i++) {
                    String arg = args.get(i);
                    assertThat(arg).as("%s args", role).doesNotContainIgnoringCase("password");
                    if (arg.equals("-D") && i + 1 < args.size()) {
                      String[] kv = args.get(i + 1).split("=", 2);
                      assertThat(FleetConfig.holdsLiteralSecret(kv[0], kv.length > 1 ? kv[1] : ""))
                          .as("%s: -D %s", role, kv[0])
                          .isFalse();
                    }
                  }
                }
              }
            });
    // Secrets with values are examples only, and hold placeholders
    try (Stream<Path> files = Files.list(DEPLOY.resolve("k8s"))) {
      for (Path file : files.filter(p -> p.toString().endsWith(".yaml")).toList()) {
        String text = Files.readString(file);
        if (!file.getFileName().toString().equals("secrets.example.yaml")) {
          assertThat(text).as("%s", file).doesNotContainPattern("(?m)^kind: Secret$");
        }
      }
    }
    for (JsonNode doc : docs) {
      if (doc.path("kind").asText().equals("Secret")) {
        doc.path("stringData")
            .fields()
            .forEachRemaining(
                e -> {
                  if (!e.getKey().equals("username")) {
                    assertThat(e.getValue().asText())
                        .as("%s %s", doc.path("metadata").path("name").asText(), e.getKey())
                        .contains("REPLACE-ME");
                  }
                });
        assertThat(doc.has("data")).as("no base64 values").isFalse();
      }
    }
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
