package io.keepgate.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.keepgate.config.ConfigLoader;
import io.keepgate.deploy.Manifests.Document;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The checks can fail: known-bad fixtures under src/test/resources/deploy/bad/ go through the same
 * code as k8s/ and docker/ (the Kubernetes API schemas, the strict read, keepgate's rules,
 * dockerfile-utils and keepgate's image rules) and each mistake in them is reported, with its path.
 */
class BadFixturesTest {

  private static final Path WRONG_TYPES = Project.BAD.resolve("deployment-wrong-types.yaml");
  private static final Path UNKNOWN_FIELDS = Project.BAD.resolve("deployment-unknown-fields.yaml");
  private static final Path INVALID_VALUES = Project.BAD.resolve("invalid-values.yaml");
  private static final Path INCONSISTENT = Project.BAD.resolve("inconsistent.yaml");

  @Test
  void wrongTypesFailTheKubernetesApiSchemas() {
    assertProblems(KubernetesSchemas.problems(List.of(WRONG_TYPES)),
        "deployment-wrong-types.yaml (Deployment keepgate) spec.replicas: \"three\" must be integer",
        "(Deployment keepgate) spec.template.spec.containers[0].ports[0].containerPort: \"8080\" must be integer",
        "(Deployment keepgate) spec.template.metadata.labels.version: 1 must be string",
        "(Deployment keepgate) spec.template.spec.containers[0].args: \"--config /etc/keepgate/keepgate.json\" must be array");
    // the strict read refuses them too, the first one ending the read
    assertProblems(Manifests.problems(Manifests.read(WRONG_TYPES)), "(Deployment keepgate) spec.replicas: Cannot coerce String value");
  }

  @Test
  void valuesTheApiServerWouldRefuseFailTheKubernetesApiSchemas() {
    List<String> problems = KubernetesSchemas.problems(List.of(INVALID_VALUES));
    assertProblems(problems,
        "invalid-values.yaml#1 (Service keepgate) spec.type: \"Internal\" must be one of ClusterIP, ExternalName, LoadBalancer, NodePort",
        "invalid-values.yaml#1 (Service keepgate) spec.ports[0].protocol: \"tcp\" must be one of SCTP, TCP, UDP",
        "invalid-values.yaml#2 (Deployment keepgate) spec.selector: required",
        "invalid-values.yaml#2 (Deployment keepgate) spec.template.spec.containers[0].imagePullPolicy: \"Sometimes\" must be one of Always, IfNotPresent, Never",
        "invalid-values.yaml#3 (Deployment bad-quantity) spec.template.spec.containers[0].name: required",
        "invalid-values.yaml#3 (Deployment bad-quantity) spec.template.spec.containers[0].resources.requests.cpu: \"two cores\" must be number or must be of format quantity",
        "invalid-values.yaml#5 (NetworkPolicy keepgate) spec.policyTypes[0]: \"Inbound\" must be one of Egress, Ingress",
        "invalid-values.yaml#6 (Deploymnet typo) apiVersion: \"apps/v1\" kind \"Deploymnet\" has no schema in kubernetes-models");
    assertEquals(8, problems.size(), String.join("\n", problems));
    // the beta autoscaler passes the schemas (kubernetes-models still ships autoscaling/v2beta2), not keepgate's rules
    List<Document> documents = Manifests.read(INVALID_VALUES);
    assertProblems(Manifests.problems(documents), "invalid-values.yaml#6 (Deploymnet typo) apiVersion: \"apps/v1\" kind \"Deploymnet\" has no model class");
    assertProblems(KeepgateManifestChecks.problems(documents, 10001L),
        "HorizontalPodAutoscaler keepgate: apiVersion autoscaling/v2beta2 is not a GA version");
  }

  @Test
  void unknownFieldsPassTheSchemasButFailTheStrictRead() {
    assertEquals(List.of(), KubernetesSchemas.problems(List.of(UNKNOWN_FIELDS)), "the schemas allow unknown fields");
    List<Document> documents = Manifests.read(UNKNOWN_FIELDS);
    assertNull(documents.get(0).resource(), "rejected before typed use");
    List<String> problems = Manifests.problems(documents);
    assertProblems(problems,
        "deployment-unknown-fields.yaml (Deployment keepgate) spec.strategy.rollingUpdate.maxSurgee: unknown field (RollingUpdateDeployment has no such field)",
        "(Deployment keepgate) spec.template.metadata.labelz: unknown field (ObjectMeta has no such field)",
        "(Deployment keepgate) spec.template.spec.containers[0].readinesProbe: unknown field (Container has no such field)");
    assertEquals(3, problems.size(), String.join("\n", problems));
  }

  /**
   * The strict read refuses unknown fields, which fabric8's model classes would otherwise swallow
   * into additionalProperties even with FAIL_ON_UNKNOWN_PROPERTIES on, and scalars of the wrong type.
   */
  @Test
  void theStrictReadRefusesUnknownFieldsThatFabric8WouldSwallow() throws Exception {
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
    List<String> problems = new ArrayList<>();
    new StrictModelReader().read(typo, Deployment.class, problems);
    assertEquals(List.of("spec.template.spec.containers[0].readinesProbe: unknown field (Container has no such field)"), problems);

    JsonNode quoted = new YAMLMapper().readTree("{apiVersion: apps/v1, kind: Deployment, metadata: {name: k}, spec: {replicas: \"3\"}}");
    assertThrows(MismatchedInputException.class, () -> new StrictModelReader().read(quoted, Deployment.class, new ArrayList<>()),
        "no coercion of \"3\" to 3: the API server refuses a string there");
  }

  @Test
  void manifestsThatDoNotFitKeepgateAreRejected() {
    assertEquals(List.of(), KubernetesSchemas.problems(List.of(INCONSISTENT)), "valid Kubernetes objects: only keepgate's own checks fail");
    List<Document> documents = Manifests.read(INCONSISTENT);
    assertEquals(List.of(), Manifests.problems(documents));
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
        "livenessProbe port metrics is no port of the container (expected: admin.port 9901)",
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
        "PodDisruptionBudget keepgate: does not select keepgate's pods (a budget without a selector protects none)",
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
    Path bad = Project.BAD.resolve("Dockerfile");
    assertProblems(DockerfileLint.problems(bad),
        "dockerfile-utils: line 4: error: No source image provided with `FROM`",
        "dockerfile-utils: line 9: error: Unknown type\"WGET\" in HEALTHCHECK (try CMD)");
    List<String> problems = DockerfileChecks.problems(new Dockerfile(Project.read(bad)), ConfigLoader.load(Project.IMAGE_CONFIG));
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
        "HEALTHCHECK does not GET /health/live on the admin port 9901",
        "HEALTHCHECK without --timeout",
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
