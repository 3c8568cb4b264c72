package io.keepgate.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.keepgate.config.ConfigException;
import io.keepgate.config.ConfigLoader;
import io.keepgate.config.GatewayConfig;
import io.keepgate.deploy.Manifests.Document;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * k8s/ is what {@code kubectl apply -k k8s/} applies (its kustomize output when kubectl is at
 * hand, see {@link Kustomize}): every object valid against the Kubernetes API's schemas (see
 * {@link KubernetesSchemas}) and read strictly into its model class, unknown fields refused (see
 * {@link StrictModelReader}), the kustomization listing exactly the files, and the whole set
 * consistent with keepgate's config and image (see {@link KeepgateManifestChecks}). Offline: no
 * cluster, no network.
 */
class KubernetesManifestsTest {

  @Test
  void everyManifestValidatesAgainstTheKubernetesApiSchemas() {
    assertEquals(List.of(), KubernetesSchemas.problems(Project.k8s().files()));
  }

  @Test
  void everyManifestReadsStrictlyIntoItsModelClass() {
    List<Document> documents = Project.manifests();
    assertFalse(documents.isEmpty(), "no manifests in " + Project.K8S);
    assertEquals(List.of(), Manifests.problems(documents));
    documents.forEach(document -> assertNotNull(document.resource(), document.where()));
  }

  @Test
  void theManifestsAreTheObjectsTheSpecAsksFor() {
    Map<String, Long> kinds = Project.manifests().stream()
        .collect(Collectors.groupingBy(Document::kind, TreeMap::new, Collectors.counting()));
    // Service twice: client traffic, and the headless one for Hazelcast member discovery; the
    // ServiceAccount, Role and RoleBinding let the pods read EndpointSlices (discovery.kubernetes)
    assertEquals(Map.of("ConfigMap", 1L, "Deployment", 1L, "HorizontalPodAutoscaler", 1L, "NetworkPolicy", 1L,
        "PodDisruptionBudget", 1L, "Service", 2L, "ServiceAccount", 1L, "Role", 1L, "RoleBinding", 1L), kinds);
  }

  @Test
  void theManifestsAgreeWithTheConfigTheyCarryAndTheImage() {
    List<Document> documents = Project.manifests();
    assertEquals(List.of(), Manifests.problems(documents), "unknown fields or wrong types");
    assertEquals(List.of(), KeepgateManifestChecks.problems(documents, Project.imageUid(Project.dockerfile())));
  }

  @Test
  void kubernetesDiscoveryNeedsTheRoleThatReadsEndpointSlices() {
    List<Document> withoutBinding = Project.manifests().stream().filter(d -> !"RoleBinding".equals(d.kind())).toList();
    assertEquals(List.of("Deployment (an upstream uses discovery.kubernetes): no Role bound to ServiceAccount keepgate "
            + "allows get, list, watch on discovery.k8s.io endpointslices"),
        KeepgateManifestChecks.problems(withoutBinding, Project.imageUid(Project.dockerfile())));
  }

  /** The ConfigMap's keepgate.json passes keepgate's own validation, with the cluster on. */
  @Test
  void theConfigMapConfigIsValidWithTheClusterOn() throws ConfigException {
    GatewayConfig config = ConfigLoader.parseForAnotherHost(configMapConfig());
    assertTrue(config.cluster().enabled(), "every pod a Hazelcast member");
    assertEquals("keepgate-hazelcast", config.cluster().kubernetesServiceDns());
    assertEquals("", config.cluster().host(), "empty: each member binds its pod's $POD_IP");
    assertEquals("0.0.0.0", config.admin().host(), "the kubelet probes the admin port from outside the pod");
  }

  @Test
  void theDeploymentProbesTheAdminListenerAndOutwaitsTheDrain() throws ConfigException {
    GatewayConfig config = ConfigLoader.parseForAnotherHost(configMapConfig());
    Deployment deployment = Project.manifests().stream().map(Document::resource)
        .filter(Deployment.class::isInstance).map(Deployment.class::cast).findFirst().orElseThrow();
    var pod = deployment.getSpec().getTemplate().getSpec();
    var container = pod.getContainers().get(0);
    assertEquals("/health/ready", container.getReadinessProbe().getHttpGet().getPath());
    assertEquals("/health/live", container.getLivenessProbe().getHttpGet().getPath());
    assertEquals(config.admin().port(), KeepgateManifestChecks.containerPort(container.getReadinessProbe().getHttpGet().getPort(), container));
    assertEquals(config.admin().port(), KeepgateManifestChecks.containerPort(container.getLivenessProbe().getHttpGet().getPort(), container));
    Map<String, Integer> ports = container.getPorts().stream()
        .collect(Collectors.toMap(port -> port.getName(), port -> port.getContainerPort()));
    assertEquals(Map.of("http", config.server().port(), "https", config.server().tls().port(),
        "admin", config.admin().port(), "hazelcast", config.cluster().port()), ports);
    List<String> preStop = container.getLifecycle().getPreStop().getExec().getCommand();
    assertEquals("sleep", preStop.get(0));
    long drainSeconds = config.server().drainTimeout().toSeconds();
    assertTrue(pod.getTerminationGracePeriodSeconds() > drainSeconds + Long.parseLong(preStop.get(1)),
        "terminationGracePeriodSeconds " + pod.getTerminationGracePeriodSeconds() + " <= drain " + drainSeconds + " + preStop " + preStop);
    assertEquals(3, deployment.getSpec().getReplicas());
  }

  @Test
  void theKustomizationAppliesExactlyTheManifestsAndNoNamespace() throws IOException {
    JsonNode kustomization = new YAMLMapper().readTree(Project.K8S.resolve(Project.KUSTOMIZATION).toFile());
    assertEquals("kustomize.config.k8s.io/v1beta1", kustomization.path("apiVersion").asText());
    assertEquals("Kustomization", kustomization.path("kind").asText());
    Set<String> allowed = Set.of("apiVersion", "kind", "resources", "images", "labels", "commonAnnotations");
    List<String> keys = new ArrayList<>();
    kustomization.fieldNames().forEachRemaining(keys::add);
    assertTrue(allowed.containsAll(keys), "unexpected kustomization keys " + keys + " (no namespace: the manifests stay namespace-agnostic)");
    Set<String> listed = new TreeSet<>();
    kustomization.path("resources").forEach(resource -> listed.add(resource.asText()));
    Set<String> files = Project.manifestFiles().stream().map(Path::getFileName).map(Path::toString)
        .collect(Collectors.toCollection(TreeSet::new));
    assertEquals(files, listed, "kustomization resources vs files in k8s/");
    assertEquals(listed.size(), kustomization.path("resources").size(), "a resource listed twice");
    // the image override names the Deployment's image
    String image = Project.manifests().stream().map(Document::resource).filter(Deployment.class::isInstance)
        .map(Deployment.class::cast).findFirst().orElseThrow().getSpec().getTemplate().getSpec().getContainers().get(0).getImage();
    kustomization.path("images").forEach(entry ->
        assertEquals(image.replaceAll(":[^:/]+$", ""), entry.path("name").asText(), "kustomization images[].name"));
  }

  static String configMapConfig() {
    return Project.manifests().stream().map(Document::resource).filter(ConfigMap.class::isInstance)
        .map(ConfigMap.class::cast).findFirst().orElseThrow().getData().get("keepgate.json");
  }
}
