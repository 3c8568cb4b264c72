package io.keepgate.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.keepgate.config.ConfigLoader;
import io.keepgate.deploy.ManifestValidator.Document;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The checks can fail: known-bad fixtures under src/test/resources/deploy/bad/ go through the same
 * code as k8s/ and docker/ and each mistake in them is reported, with its path.
 */
class BadFixturesTest {

  private final ManifestValidator validator = new ManifestValidator();

  @Test
  void unknownFieldsAndWrongTypesAreRejected() throws Exception {
    List<Document> documents = validator.validateFile(Project.BAD.resolve("deployment-unknown-field-wrong-type.yaml"));
    assertEquals(1, documents.size());
    assertNull(documents.get(0).resource(), "rejected before typed use");
    assertProblems(Project.problems(documents),
        "spec.template.spec.containers[0].readinesProbe: unknown field (Container has no such field)",
        "spec.strategy.rollingUpdate.maxSurgee: unknown field",
        "spec.replicas: \"three\" (expected: integer)",
        "spec.template.spec.containers[0].ports[0].containerPort: \"8080\" (expected: integer)",
        "spec.template.metadata.labels.version: 1.0 (expected: string)",
        "spec.template.spec.containers[0].args: \"--config /etc/keepgate/keepgate.json\" (expected: list)");
  }

  /**
   * The typed pass on its own also refuses unknown fields, which fabric8's model classes would
   * otherwise swallow into additionalProperties even with FAIL_ON_UNKNOWN_PROPERTIES on.
   */
  @Test
  void theTypedPassRefusesUnknownFieldsThatFabric8WouldSwallow() throws Exception {
    JsonNode typo = new YAMLMapper().readTree("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: keepgate}
        spec:
          template:
            spec:
              containers:
                - {name: keepgate, image: "keepgate:0.1.0", readinesProbe: {}}
        """);
    JsonMapper plain = JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();
    Container swallowed = plain.treeToValue(typo, Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0);
    assertTrue(swallowed.getAdditionalProperties().containsKey("readinesProbe"), "why the any-setter has to go");
    UnrecognizedPropertyException unknown = assertThrows(UnrecognizedPropertyException.class,
        () -> validator.readStrict(typo, Deployment.class));
    assertEquals("readinesProbe", unknown.getPropertyName());

    JsonNode quoted = new YAMLMapper().readTree("{apiVersion: apps/v1, kind: Deployment, metadata: {name: k}, spec: {replicas: \"3\"}}");
    assertThrows(MismatchedInputException.class, () -> validator.readStrict(quoted, Deployment.class),
        "no coercion of \"3\" to 3: the API server refuses a string there");
  }

  @Test
  void valuesTheApiServerWouldRefuseAreRejected() throws Exception {
    List<String> problems = Project.problems(validator.validateFile(Project.BAD.resolve("invalid-values.yaml")));
    assertProblems(problems,
        // Service
        "metadata.name: \"Keepgate_Svc\" (expected: lower-case letters",
        "spec.type: \"Internal\" (expected one of: ClusterIP, ExternalName, LoadBalancer, NodePort)",
        "spec.ports[0].port: 70000 (expected: 1..65535)",
        "spec.ports[0].protocol: \"tcp\" (expected one of: SCTP, TCP, UDP)",
        "spec.ports[0].name: required when a Service has several ports",
        // Deployment
        "spec.selector: does not select the pod template's labels",
        "spec.template.spec.containers[0].image: required",
        "spec.template.spec.containers[0].imagePullPolicy: \"Sometimes\"",
        "spec.template.spec.containers[0].readinessProbe.httpGet.path: \"health/ready\" (expected: starting with /)",
        "spec.template.spec.containers[0].readinessProbe.httpGet.port: \"metrics\" (expected: a port number or one of the container's port names [admin])",
        "spec.template.spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: \"status.podIp\"",
        "spec.template.spec.containers[0].resources.requests.memory: 2Gi (expected: <= the limit 1Gi)",
        "spec.template.spec.containers[0].volumeMounts[0].name: \"cfg\" (expected: one of the pod's volumes [])",
        "spec.template.spec.containers[0].volumeMounts[0].mountPath: \"etc/keepgate\" (expected: an absolute path)",
        // removed API version
        "apiVersion: \"autoscaling/v2beta2\" kind \"HorizontalPodAutoscaler\" (expected one of:",
        // PodDisruptionBudget
        "spec: exactly one of minAvailable and maxUnavailable",
        "spec.selector: required",
        // NetworkPolicy
        "spec.policyTypes: \"Inbound\" (expected one of: Egress, Ingress)",
        "spec.ingress[0].from[0]: empty peer");
    // the second Deployment: a quantity that is none
    assertProblems(problems, "(Deployment bad-quantity) spec.template.spec.containers[0].resources.requests.cpu: \"two cores\" (expected: a quantity");
  }

  @Test
  void manifestsThatDoNotFitKeepgateAreRejected() throws Exception {
    List<Document> documents = validator.validateFile(Project.BAD.resolve("inconsistent.yaml"));
    assertEquals(List.of(), Project.problems(documents), "valid Kubernetes objects: only keepgate's own checks fail");
    List<String> problems = KeepgateManifestChecks.problems(documents, 10001L);
    assertProblems(problems,
        "ConfigMap keepgate-config: metadata.namespace is set",
        "config volume mounted with subPath",
        "ConfigMap keepgate.json: cluster.enabled is not true",
        "ConfigMap keepgate.json: cluster.host \"10.0.0.5\" (expected: empty",
        "ConfigMap keepgate.json: admin.host 127.0.0.1 (expected: 0.0.0.0",
        "no containerPort 5701 (cluster.port)",
        "no containerPort 8443 (server.tls.port)",
        "server.tls file /etc/keepgate/tls.crt is on no Secret volume mounted as a directory",
        "server.tls file /etc/keepgate/tls.key is on no Secret volume mounted as a directory",
        "readinessProbe port http is 8080 (expected: admin.port 9901)",
        "livenessProbe path /healthz (expected: /health/live)",
        "terminationGracePeriodSeconds 20 (expected: > preStop 5 s + server.drainTimeoutMs 30 s",
        "no env POD_IP from the downward API",
        "runAsNonRoot is not true",
        "runAsUser 0",
        "runAsUser 0 differs from the image's USER 10001",
        "readOnlyRootFilesystem is not true",
        "allowPrivilegeEscalation is not false",
        "capabilities do not drop ALL",
        "no resources.requests.cpu",
        "no preferred podAntiAffinity",
        "image keepgate:latest",
        "Service keepgate: selector {app.kubernetes.io/name=something-else} does not select keepgate's pods",
        "Service keepgate: port 9901 exposes container port 9901",
        "no Service for client traffic",
        "no headless Service",
        "no PodDisruptionBudget",
        "no HorizontalPodAutoscaler",
        "no NetworkPolicy");
  }

  @Test
  void anInvalidConfigInTheConfigMapIsReportedWithKeepgatesOwnProblemLines() {
    KeepgateManifestChecks.ParsedConfig parsed = KeepgateManifestChecks.parseConfig("""
        { "server": { "prot": 8080 },
          "upstreams": [ { "name": "api", "endpoints": ["api:8080"] } ],
          "routes": [ { "upstream": "billing" } ],
          "cluster": { "enabled": true } }""");
    assertNull(parsed.config());
    assertProblems(parsed.problems(), "server.prot: unknown key", "routes[0].upstream: no upstream named \"billing\"",
        "cluster.members: [] (expected: members, or kubernetes.serviceDns, when the cluster is enabled)");
  }

  @Test
  void aBadDockerfileIsRejected() throws Exception {
    List<String> problems = DockerfileChecks.problems(
        new Dockerfile(Project.read(Project.BAD.resolve("Dockerfile"))), ConfigLoader.load(Project.IMAGE_CONFIG));
    assertProblems(problems,
        "not a multi-stage build",
        "FROM eclipse-temurin:latest: :latest",
        "ENV DB_PASSWORD looks like a secret",
        "no USER, so the container runs as root",
        "COPY . into the final image",
        "keepgate.jar is not copied from the build stage",
        "ENTRYPOINT in shell form",
        "no -XX:MaxRAMPercentage",
        "no -XX:+ExitOnOutOfMemoryError",
        "STOPSIGNAL missing",
        "no HEALTHCHECK",
        "EXPOSE [8080] lacks 9901",
        "CMD missing");
  }

  @Test
  void floatingTagsAndAFixedHeapAreRejected() throws Exception {
    String text = Project.read(Project.DOCKERFILE)
        .replace("eclipse-temurin:17.0.13_11-jre-jammy", "eclipse-temurin:17-jre")
        .replace("-XX:MaxRAMPercentage=75", "-Xmx1g")
        .replace("USER 10001:10001", "USER keepgate");
    List<String> problems = DockerfileChecks.problems(new Dockerfile(text), ConfigLoader.load(Project.IMAGE_CONFIG));
    assertProblems(problems, "tag \"17-jre\" floats", "-Xmx1g fixes the heap", "no -XX:MaxRAMPercentage",
        "USER keepgate (expected: a numeric uid");
  }

  @Test
  void aBuildWithoutTheDependencyLayerAndARootUserAreRejected() throws Exception {
    String text = Project.read(Project.DOCKERFILE)
        .replaceAll("(?m)^RUN mvn .*go-offline$", "")
        .replace("USER 10001:10001", "USER 0:0")
        .replace("\"--add-opens=java.base/sun.nio.ch=ALL-UNNAMED\", \\\n", "");
    List<String> problems = DockerfileChecks.problems(new Dockerfile(text), ConfigLoader.load(Project.IMAGE_CONFIG));
    assertProblems(problems, "dependency cache order not COPY pom.xml, RUN mvn dependency:go-offline, COPY src",
        "USER 0:0 is root", "ENTRYPOINT lacks --add-opens=java.base/sun.nio.ch=ALL-UNNAMED");
  }

  @Test
  void aDockerignoreThatLetsTargetInIsRejected() {
    assertProblems(DockerfileChecks.dockerignoreProblems("# nothing\n*.log\n"),
        ".dockerignore: target/ reaches the build context", ".dockerignore: .git/ reaches the build context");
    assertProblems(DockerfileChecks.dockerignoreProblems("*\n!pom.xml\n!target\n"), ".dockerignore: target/ reaches");
  }

  /** Every expected fragment occurs in some problem line. */
  private static void assertProblems(List<String> problems, String... expected) {
    for (String fragment : expected) {
      assertTrue(problems.stream().anyMatch(problem -> problem.contains(fragment)),
          "no problem contains: " + fragment + "\nproblems:\n  " + String.join("\n  ", problems));
    }
  }
}
