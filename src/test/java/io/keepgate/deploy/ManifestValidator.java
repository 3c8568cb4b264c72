package io.keepgate.deploy;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.DeserializationConfig;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.BeanDeserializerBuilder;
import com.fasterxml.jackson.databind.deser.BeanDeserializerModifier;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.ExecAction;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.LifecycleHandler;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HPAScalingPolicy;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HPAScalingRules;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricSpec;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricTarget;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Validates Kubernetes manifests offline against the API model classes of fabric8
 * (kubernetes-model-*), with no cluster and no network.
 *
 * <p>Each YAML document goes through three passes; every problem found is one line naming the
 * file, the document and the field path ({@code spec.template.spec.containers[0].image}):
 *
 * <ol>
 *   <li><b>Structure</b>: the document is walked against the model class for its
 *       {@code apiVersion} and {@code kind} (only the API versions below are accepted), using
 *       Jackson's view of the model's properties: a key the model does not have is an unknown
 *       field; a value of the wrong JSON type (a string where the API wants an integer, a number
 *       as a label value, an object where a list belongs) is a type error. All of them are
 *       reported, not just the first.
 *   <li><b>Typed</b>: the document is deserialized into the model class with
 *       {@code FAIL_ON_UNKNOWN_PROPERTIES} and without scalar coercion. The fabric8 classes
 *       collect unknown keys in an {@code additionalProperties} map (a {@code @JsonAnySetter}),
 *       which would make {@code FAIL_ON_UNKNOWN_PROPERTIES} a no-op, so that any-setter is removed
 *       here and unknown keys fail as they should.
 *   <li><b>Semantics</b>: what the API server's validation would refuse and the model cannot
 *       express: required fields, enum-like string values, names and label syntax, port ranges,
 *       quantities, probe and volume references, selectors that match the pod template.
 * </ol>
 *
 * <p>What this cannot see: admission webhooks and policies of a real cluster, defaults the API
 * server fills in, and fields newer than the fabric8 model version pinned in pom.xml.
 */
final class ManifestValidator {

  /** The API versions and kinds keepgate's manifests may use, and their model classes. */
  static final Map<String, Class<? extends HasMetadata>> TYPES = Map.of(
      "v1/ConfigMap", ConfigMap.class,
      "v1/Service", Service.class,
      "apps/v1/Deployment", Deployment.class,
      "policy/v1/PodDisruptionBudget", PodDisruptionBudget.class,
      "autoscaling/v2/HorizontalPodAutoscaler", HorizontalPodAutoscaler.class,
      "networking.k8s.io/v1/NetworkPolicy", NetworkPolicy.class,
      "v1/ServiceAccount", ServiceAccount.class,
      "rbac.authorization.k8s.io/v1/Role", Role.class,
      "rbac.authorization.k8s.io/v1/RoleBinding", RoleBinding.class);

  /** One YAML document: where it came from, its tree, the typed resource (null when invalid). */
  record Document(String where, JsonNode tree, HasMetadata resource, List<String> problems) {
    String kind() {
      return tree.path("kind").asText("");
    }

    String name() {
      return tree.path("metadata").path("name").asText("");
    }
  }

  private static final Pattern DNS1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern DNS1123_SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  private static final Pattern DNS1035_LABEL = Pattern.compile("[a-z]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern IANA_SVC_NAME = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern QUALIFIED_NAME = Pattern.compile("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]");
  private static final Pattern ENV_NAME = Pattern.compile("[-._a-zA-Z][-._a-zA-Z0-9]*");
  private static final Pattern CONFIG_KEY = Pattern.compile("[-._a-zA-Z0-9]+");
  private static final Pattern PERCENT = Pattern.compile("[0-9]+%");
  private static final Pattern CAPABILITY = Pattern.compile("[A-Z][A-Z_]*");
  private static final Set<String> PROTOCOLS = Set.of("TCP", "UDP", "SCTP");
  private static final Set<String> PULL_POLICIES = Set.of("Always", "IfNotPresent", "Never");
  private static final Set<String> SERVICE_TYPES = Set.of("ClusterIP", "NodePort", "LoadBalancer", "ExternalName");
  private static final Set<String> SELECTOR_OPERATORS = Set.of("In", "NotIn", "Exists", "DoesNotExist");
  private static final Set<String> FIELD_PATHS = Set.of("metadata.name", "metadata.namespace", "metadata.uid",
      "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs");
  private static final Pattern FIELD_PATH_MAP = Pattern.compile("metadata\\.(labels|annotations)\\['[^']+'\\]");

  private final YAMLMapper yaml;
  private final ObjectMapper strict;
  private final Map<JavaType, Map<String, JavaType>> properties = new ConcurrentHashMap<>();

  ManifestValidator() {
    YAMLFactory factory = YAMLFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    yaml = new YAMLMapper(factory);
    strict = JsonMapper.builder()
        .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
        .addModule(new SimpleModule("no-any-setter").setDeserializerModifier(new BeanDeserializerModifier() {
          @Override
          public BeanDeserializerBuilder updateBuilder(
              DeserializationConfig config, BeanDescription description, BeanDeserializerBuilder builder) {
            if (description.getBeanClass().getName().startsWith("io.fabric8.")) {
              builder.setAnySetter(null); // unknown keys fail instead of landing in additionalProperties
            }
            return builder;
          }
        }))
        .build();
  }

  /** Reads and validates every document of a YAML file. A file that is not YAML gives one document with the error. */
  List<Document> validateFile(Path file) throws IOException {
    String name = file.getFileName().toString();
    List<JsonNode> trees = new ArrayList<>();
    try {
      trees.addAll(yaml.readerFor(JsonNode.class).<JsonNode>readValues(Files.readString(file)).readAll());
    } catch (IOException e) {
      String message = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
      return List.of(new Document(name, yaml.createObjectNode(), null, List.of(name + ": not valid YAML: " + message)));
    }
    List<Document> documents = new ArrayList<>();
    int index = 0;
    for (JsonNode tree : trees) {
      index++;
      if (tree == null || tree.isMissingNode() || tree.isNull()) {
        continue; // an empty document, e.g. after a trailing ---
      }
      documents.add(validate(tree, trees.size() > 1 ? name + "#" + index : name));
    }
    return documents;
  }

  /** Validates one parsed document. */
  Document validate(JsonNode tree, String source) {
    String kind = tree.path("kind").asText("?");
    String where = source + " (" + kind + " " + tree.path("metadata").path("name").asText("?") + ")";
    Problems problems = new Problems(where);
    if (!tree.isObject()) {
      problems.add("", show(tree) + " (expected: a Kubernetes object)");
      return new Document(where, tree, null, problems.list);
    }
    String apiVersion = tree.path("apiVersion").asText("");
    Class<? extends HasMetadata> type = TYPES.get(apiVersion + "/" + kind);
    if (type == null) {
      problems.add("apiVersion", "\"" + apiVersion + "\" kind \"" + kind + "\" (expected one of: " + new java.util.TreeSet<>(TYPES.keySet()) + ")");
      return new Document(where, tree, null, problems.list);
    }
    walk(tree, strict.constructType(type), "", problems);
    if (!problems.list.isEmpty()) {
      return new Document(where, tree, null, problems.list);
    }
    HasMetadata resource;
    try {
      resource = readStrict(tree, type);
    } catch (IOException e) {
      problems.add("", "does not deserialize into " + type.getSimpleName() + ": " + e.getMessage().lines().findFirst().orElse(""));
      return new Document(where, tree, null, problems.list);
    }
    semantics(resource, problems);
    return new Document(where, tree, resource, problems.list);
  }

  /** Pass 2 alone: strict typed deserialization (unknown keys and scalar coercions fail). */
  <T> T readStrict(JsonNode tree, Class<T> type) throws IOException {
    return strict.treeToValue(tree, type);
  }

  // ---------------------------------------------------------------------------------------------
  // Pass 1: structure

  private void walk(JsonNode node, JavaType type, String path, Problems problems) {
    if (node == null || node.isNull()) {
      return; // an explicit null is the same as an absent optional field to the API server
    }
    Class<?> raw = type.getRawClass();
    if (raw == String.class) {
      expect(node.isTextual(), node, path, "string", problems);
    } else if (raw == Integer.class || raw == int.class) {
      expect(node.isIntegralNumber() && node.canConvertToInt(), node, path, "integer", problems);
    } else if (raw == Long.class || raw == long.class) {
      expect(node.isIntegralNumber() && node.canConvertToLong(), node, path, "integer", problems);
    } else if (raw == Boolean.class || raw == boolean.class) {
      expect(node.isBoolean(), node, path, "boolean", problems);
    } else if (raw == Double.class || raw == double.class || raw == Float.class || raw == float.class) {
      expect(node.isNumber(), node, path, "number", problems);
    } else if (raw == IntOrString.class) {
      expect(node.isTextual() || node.isIntegralNumber() && node.canConvertToInt(), node, path, "integer or string", problems);
    } else if (raw == Quantity.class) {
      if (expect(node.isTextual() || node.isNumber(), node, path, "quantity", problems)) {
        quantity(node.asText(), path, problems);
      }
    } else if (raw == Object.class) {
      // free-form (e.g. annotations of some kinds): anything goes
    } else if (type.isMapLikeType()) {
      if (expect(node.isObject(), node, path, "object", problems)) {
        for (Map.Entry<String, JsonNode> entry : node.properties()) {
          walk(entry.getValue(), type.getContentType(), key(path, entry.getKey()), problems);
        }
      }
    } else if (type.isCollectionLikeType() || type.isArrayType()) {
      if (expect(node.isArray(), node, path, "list", problems)) {
        for (int i = 0; i < node.size(); i++) {
          walk(node.get(i), type.getContentType(), path + "[" + i + "]", problems);
        }
      }
    } else if (raw.getName().startsWith("io.fabric8.")) {
      if (expect(node.isObject(), node, path, "object", problems)) {
        Map<String, JavaType> known = properties(type);
        for (Map.Entry<String, JsonNode> entry : node.properties()) {
          JavaType propertyType = known.get(entry.getKey());
          String at = path.isEmpty() ? entry.getKey() : path + "." + entry.getKey();
          if (propertyType == null) {
            problems.add(at, "unknown field (" + raw.getSimpleName() + " has no such field)");
          } else {
            walk(entry.getValue(), propertyType, at, problems);
          }
        }
      }
    } else {
      // a model type this walker has no rule for: say so rather than skip it silently
      problems.add(path, "cannot check values of type " + type + " (extend ManifestValidator.walk)");
    }
  }

  private Map<String, JavaType> properties(JavaType type) {
    return properties.computeIfAbsent(type, t -> {
      Map<String, JavaType> result = new LinkedHashMap<>();
      BeanDescription description = strict.getDeserializationConfig().introspect(t);
      for (BeanPropertyDefinition property : description.findProperties()) {
        if (property.couldDeserialize()) {
          result.put(property.getName(), property.getPrimaryType());
        }
      }
      return result;
    });
  }

  private static boolean expect(boolean ok, JsonNode node, String path, String expected, Problems problems) {
    if (!ok) {
      problems.add(path, show(node) + " (expected: " + expected + ")");
    }
    return ok;
  }

  private static String key(String path, String key) {
    return key.matches("[A-Za-z0-9_-]+") ? (path.isEmpty() ? key : path + "." + key) : path + "[\"" + key + "\"]";
  }

  static String show(JsonNode node) {
    if (node.isTextual()) {
      return "\"" + node.asText() + "\"";
    }
    if (node.isObject()) {
      return "an object";
    }
    if (node.isArray()) {
      return "a list";
    }
    return node.toString();
  }

  // ---------------------------------------------------------------------------------------------
  // Pass 3: semantics

  private void semantics(HasMetadata resource, Problems problems) {
    metadata(resource, problems);
    if (resource instanceof Deployment deployment) {
      deployment(deployment, problems);
    } else if (resource instanceof Service service) {
      service(service, problems);
    } else if (resource instanceof ConfigMap configMap) {
      configMap(configMap, problems);
    } else if (resource instanceof PodDisruptionBudget budget) {
      podDisruptionBudget(budget, problems);
    } else if (resource instanceof HorizontalPodAutoscaler autoscaler) {
      autoscaler(autoscaler, problems);
    } else if (resource instanceof NetworkPolicy policy) {
      networkPolicy(policy, problems);
    }
  }

  private static void metadata(HasMetadata resource, Problems problems) {
    ObjectMeta meta = resource.getMetadata();
    if (meta == null || meta.getName() == null || meta.getName().isEmpty()) {
      problems.add("metadata.name", "required");
      return;
    }
    if (resource instanceof Service) {
      name(meta.getName(), DNS1035_LABEL, 63, "metadata.name", problems);
    } else {
      name(meta.getName(), DNS1123_SUBDOMAIN, 253, "metadata.name", problems);
    }
    labels(meta.getLabels(), "metadata.labels", problems);
  }

  private void deployment(Deployment deployment, Problems problems) {
    var spec = deployment.getSpec();
    if (spec == null) {
      problems.add("spec", "required");
      return;
    }
    if (spec.getReplicas() != null && spec.getReplicas() < 0) {
      problems.add("spec.replicas", spec.getReplicas() + " (expected: >= 0)");
    }
    if (spec.getStrategy() != null && spec.getStrategy().getType() != null) {
      oneOf(spec.getStrategy().getType(), Set.of("RollingUpdate", "Recreate"), "spec.strategy.type", problems);
    }
    if (spec.getSelector() == null) {
      problems.add("spec.selector", "required");
    } else {
      selector(spec.getSelector(), "spec.selector", problems);
    }
    if (spec.getTemplate() == null || spec.getTemplate().getSpec() == null) {
      problems.add("spec.template.spec", "required");
      return;
    }
    Map<String, String> podLabels = spec.getTemplate().getMetadata() == null
        ? Map.of() : Objects.requireNonNullElse(spec.getTemplate().getMetadata().getLabels(), Map.of());
    labels(podLabels, "spec.template.metadata.labels", problems);
    if (spec.getSelector() != null && !matches(spec.getSelector(), podLabels)) {
      problems.add("spec.selector", "does not select the pod template's labels " + podLabels);
    }
    podSpec(spec.getTemplate().getSpec(), "spec.template.spec", problems);
  }

  private void podSpec(PodSpec pod, String path, Problems problems) {
    if (pod.getRestartPolicy() != null && !pod.getRestartPolicy().equals("Always")) {
      problems.add(path + ".restartPolicy", "\"" + pod.getRestartPolicy() + "\" (expected: Always in a Deployment)");
    }
    if (pod.getTerminationGracePeriodSeconds() != null && pod.getTerminationGracePeriodSeconds() < 0) {
      problems.add(path + ".terminationGracePeriodSeconds", "negative");
    }
    if (pod.getSecurityContext() != null && pod.getSecurityContext().getSeccompProfile() != null) {
      oneOf(pod.getSecurityContext().getSeccompProfile().getType(), Set.of("RuntimeDefault", "Localhost", "Unconfined"),
          path + ".securityContext.seccompProfile.type", problems);
    }
    if (pod.getAffinity() != null && pod.getAffinity().getPodAntiAffinity() != null) {
      var terms = pod.getAffinity().getPodAntiAffinity().getPreferredDuringSchedulingIgnoredDuringExecution();
      for (int i = 0; terms != null && i < terms.size(); i++) {
        String at = path + ".affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[" + i + "]";
        var term = terms.get(i);
        if (term.getWeight() == null || term.getWeight() < 1 || term.getWeight() > 100) {
          problems.add(at + ".weight", term.getWeight() + " (expected: 1..100)");
        }
        if (term.getPodAffinityTerm() == null || term.getPodAffinityTerm().getTopologyKey() == null
            || term.getPodAffinityTerm().getTopologyKey().isEmpty()) {
          problems.add(at + ".podAffinityTerm.topologyKey", "required");
        } else if (term.getPodAffinityTerm().getLabelSelector() != null) {
          selector(term.getPodAffinityTerm().getLabelSelector(), at + ".podAffinityTerm.labelSelector", problems);
        }
      }
    }
    Set<String> volumes = new HashSet<>();
    List<Volume> volumeList = Objects.requireNonNullElse(pod.getVolumes(), List.of());
    for (int i = 0; i < volumeList.size(); i++) {
      Volume volume = volumeList.get(i);
      String at = path + ".volumes[" + i + "]";
      if (volume.getName() == null || !volumes.add(volume.getName())) {
        problems.add(at + ".name", volume.getName() == null ? "required" : "duplicate \"" + volume.getName() + "\"");
      } else {
        name(volume.getName(), DNS1123_LABEL, 63, at + ".name", problems);
      }
      long sources = Arrays.stream(new Object[] {volume.getConfigMap(), volume.getSecret(), volume.getEmptyDir(),
          volume.getPersistentVolumeClaim(), volume.getProjected(), volume.getDownwardAPI(), volume.getHostPath(),
          volume.getCsi(), volume.getEphemeral(), volume.getNfs()}).filter(Objects::nonNull).count();
      if (sources != 1) {
        problems.add(at, sources + " volume sources (expected: exactly one)");
      }
      if (volume.getConfigMap() != null && (volume.getConfigMap().getName() == null || volume.getConfigMap().getName().isEmpty())) {
        problems.add(at + ".configMap.name", "required");
      }
      if (volume.getEmptyDir() != null && volume.getEmptyDir().getSizeLimit() != null) {
        nonNegative(volume.getEmptyDir().getSizeLimit(), at + ".emptyDir.sizeLimit", problems);
      }
    }
    List<Container> containers = Objects.requireNonNullElse(pod.getContainers(), List.of());
    if (containers.isEmpty()) {
      problems.add(path + ".containers", "required (at least one container)");
    }
    Set<String> names = new HashSet<>();
    for (int i = 0; i < containers.size(); i++) {
      container(containers.get(i), path + ".containers[" + i + "]", volumes, names, problems);
    }
  }

  private void container(Container container, String path, Set<String> volumes, Set<String> names, Problems problems) {
    if (container.getName() == null || container.getName().isEmpty()) {
      problems.add(path + ".name", "required");
    } else if (!names.add(container.getName())) {
      problems.add(path + ".name", "duplicate \"" + container.getName() + "\"");
    } else {
      name(container.getName(), DNS1123_LABEL, 63, path + ".name", problems);
    }
    if (container.getImage() == null || container.getImage().isBlank()) {
      problems.add(path + ".image", "required");
    }
    if (container.getImagePullPolicy() != null) {
      oneOf(container.getImagePullPolicy(), PULL_POLICIES, path + ".imagePullPolicy", problems);
    }
    Set<String> portNames = new HashSet<>();
    List<ContainerPort> ports = Objects.requireNonNullElse(container.getPorts(), List.of());
    for (int i = 0; i < ports.size(); i++) {
      ContainerPort port = ports.get(i);
      String at = path + ".ports[" + i + "]";
      portNumber(port.getContainerPort(), at + ".containerPort", problems);
      if (port.getProtocol() != null) {
        oneOf(port.getProtocol(), PROTOCOLS, at + ".protocol", problems);
      }
      if (port.getName() != null) {
        portName(port.getName(), at + ".name", problems);
        if (!portNames.add(port.getName())) {
          problems.add(at + ".name", "duplicate \"" + port.getName() + "\"");
        }
      }
    }
    List<EnvVar> env = Objects.requireNonNullElse(container.getEnv(), List.of());
    for (int i = 0; i < env.size(); i++) {
      EnvVar variable = env.get(i);
      String at = path + ".env[" + i + "]";
      if (variable.getName() == null || !ENV_NAME.matcher(variable.getName()).matches()) {
        problems.add(at + ".name", variable.getName() == null ? "required" : "\"" + variable.getName() + "\" (expected: a valid variable name)");
      }
      if (variable.getValue() != null && variable.getValueFrom() != null) {
        problems.add(at, "both value and valueFrom");
      }
      if (variable.getValueFrom() != null && variable.getValueFrom().getFieldRef() != null) {
        String fieldPath = variable.getValueFrom().getFieldRef().getFieldPath();
        if (fieldPath == null || !FIELD_PATHS.contains(fieldPath) && !FIELD_PATH_MAP.matcher(fieldPath).matches()) {
          problems.add(at + ".valueFrom.fieldRef.fieldPath", "\"" + fieldPath + "\" (expected: a field the downward API supports)");
        }
      }
    }
    resources(container.getResources(), path + ".resources", problems);
    probe(container.getReadinessProbe(), portNames, path + ".readinessProbe", problems);
    probe(container.getLivenessProbe(), portNames, path + ".livenessProbe", problems);
    probe(container.getStartupProbe(), portNames, path + ".startupProbe", problems);
    if (container.getLifecycle() != null) {
      handler(container.getLifecycle().getPreStop(), portNames, path + ".lifecycle.preStop", problems);
      handler(container.getLifecycle().getPostStart(), portNames, path + ".lifecycle.postStart", problems);
    }
    List<VolumeMount> mounts = Objects.requireNonNullElse(container.getVolumeMounts(), List.of());
    Set<String> mountPaths = new HashSet<>();
    for (int i = 0; i < mounts.size(); i++) {
      VolumeMount mount = mounts.get(i);
      String at = path + ".volumeMounts[" + i + "]";
      if (mount.getName() == null || !volumes.contains(mount.getName())) {
        problems.add(at + ".name", "\"" + mount.getName() + "\" (expected: one of the pod's volumes " + volumes + ")");
      }
      if (mount.getMountPath() == null || !mount.getMountPath().startsWith("/")) {
        problems.add(at + ".mountPath", "\"" + mount.getMountPath() + "\" (expected: an absolute path)");
      } else if (!mountPaths.add(mount.getMountPath())) {
        problems.add(at + ".mountPath", "duplicate \"" + mount.getMountPath() + "\"");
      }
    }
    SecurityContext security = container.getSecurityContext();
    if (security != null && security.getCapabilities() != null) {
      for (String capability : Objects.requireNonNullElse(security.getCapabilities().getDrop(), List.<String>of())) {
        if (!CAPABILITY.matcher(capability).matches()) {
          problems.add(path + ".securityContext.capabilities.drop", "\"" + capability + "\" (expected: a capability name like ALL or NET_RAW)");
        }
      }
    }
  }

  private static void resources(ResourceRequirements resources, String path, Problems problems) {
    if (resources == null) {
      return;
    }
    Map<String, Quantity> requests = Objects.requireNonNullElse(resources.getRequests(), Map.of());
    Map<String, Quantity> limits = Objects.requireNonNullElse(resources.getLimits(), Map.of());
    requests.forEach((name, quantity) -> nonNegative(quantity, path + ".requests." + name, problems));
    limits.forEach((name, quantity) -> nonNegative(quantity, path + ".limits." + name, problems));
    for (Map.Entry<String, Quantity> request : requests.entrySet()) {
      Quantity limit = limits.get(request.getKey());
      BigDecimal requested = amount(request.getValue());
      BigDecimal limited = limit == null ? null : amount(limit);
      if (requested != null && limited != null && requested.compareTo(limited) > 0) {
        problems.add(path + ".requests." + request.getKey(), request.getValue() + " (expected: <= the limit " + limit + ")");
      }
    }
  }

  private static void probe(Probe probe, Set<String> portNames, String path, Problems problems) {
    if (probe == null) {
      return;
    }
    long handlers = Arrays.stream(new Object[] {probe.getExec(), probe.getHttpGet(), probe.getTcpSocket(), probe.getGrpc()})
        .filter(Objects::nonNull).count();
    if (handlers != 1) {
      problems.add(path, handlers + " handlers (expected: exactly one of exec, httpGet, tcpSocket, grpc)");
    }
    httpGet(probe.getHttpGet(), portNames, path + ".httpGet", problems);
    exec(probe.getExec(), path + ".exec", problems);
    positive(probe.getPeriodSeconds(), path + ".periodSeconds", problems);
    positive(probe.getTimeoutSeconds(), path + ".timeoutSeconds", problems);
    positive(probe.getFailureThreshold(), path + ".failureThreshold", problems);
    positive(probe.getSuccessThreshold(), path + ".successThreshold", problems);
    if (probe.getInitialDelaySeconds() != null && probe.getInitialDelaySeconds() < 0) {
      problems.add(path + ".initialDelaySeconds", "negative");
    }
  }

  private static void handler(LifecycleHandler handler, Set<String> portNames, String path, Problems problems) {
    if (handler == null) {
      return;
    }
    long handlers = Arrays.stream(new Object[] {handler.getExec(), handler.getHttpGet(), handler.getTcpSocket(), handler.getSleep()})
        .filter(Objects::nonNull).count();
    if (handlers != 1) {
      problems.add(path, handlers + " handlers (expected: exactly one of exec, httpGet, tcpSocket, sleep)");
    }
    httpGet(handler.getHttpGet(), portNames, path + ".httpGet", problems);
    exec(handler.getExec(), path + ".exec", problems);
    if (handler.getSleep() != null && (handler.getSleep().getSeconds() == null || handler.getSleep().getSeconds() < 0)) {
      problems.add(path + ".sleep.seconds", "required, >= 0");
    }
  }

  private static void httpGet(HTTPGetAction get, Set<String> portNames, String path, Problems problems) {
    if (get == null) {
      return;
    }
    if (get.getPath() != null && !get.getPath().startsWith("/")) {
      problems.add(path + ".path", "\"" + get.getPath() + "\" (expected: starting with /)");
    }
    if (get.getScheme() != null) {
      oneOf(get.getScheme(), Set.of("HTTP", "HTTPS"), path + ".scheme", problems);
    }
    IntOrString port = get.getPort();
    if (port == null) {
      problems.add(path + ".port", "required");
    } else if (port.getIntVal() != null) {
      portNumber(port.getIntVal(), path + ".port", problems);
    } else if (!portNames.contains(port.getStrVal())) {
      problems.add(path + ".port", "\"" + port.getStrVal() + "\" (expected: a port number or one of the container's port names " + portNames + ")");
    }
  }

  private static void exec(ExecAction exec, String path, Problems problems) {
    if (exec != null && (exec.getCommand() == null || exec.getCommand().isEmpty())) {
      problems.add(path + ".command", "required");
    }
  }

  private static void service(Service service, Problems problems) {
    var spec = service.getSpec();
    if (spec == null) {
      problems.add("spec", "required");
      return;
    }
    if (spec.getType() != null) {
      oneOf(spec.getType(), SERVICE_TYPES, "spec.type", problems);
    }
    if (spec.getClusterIP() != null && !spec.getClusterIP().isEmpty() && !spec.getClusterIP().equals("None")
        && !spec.getClusterIP().matches("[0-9.]+|[0-9a-fA-F:]+")) {
      problems.add("spec.clusterIP", "\"" + spec.getClusterIP() + "\" (expected: None or an IP address)");
    }
    labels(spec.getSelector(), "spec.selector", problems);
    List<ServicePort> ports = Objects.requireNonNullElse(spec.getPorts(), List.of());
    if (ports.isEmpty() && !"ExternalName".equals(spec.getType())) {
      problems.add("spec.ports", "required (at least one port)");
    }
    Set<String> names = new HashSet<>();
    for (int i = 0; i < ports.size(); i++) {
      ServicePort port = ports.get(i);
      String at = "spec.ports[" + i + "]";
      portNumber(port.getPort(), at + ".port", problems);
      if (port.getProtocol() != null) {
        oneOf(port.getProtocol(), PROTOCOLS, at + ".protocol", problems);
      }
      if (port.getName() == null && ports.size() > 1) {
        problems.add(at + ".name", "required when a Service has several ports");
      } else if (port.getName() != null) {
        name(port.getName(), DNS1123_LABEL, 63, at + ".name", problems);
        if (!names.add(port.getName())) {
          problems.add(at + ".name", "duplicate \"" + port.getName() + "\"");
        }
      }
      IntOrString target = port.getTargetPort();
      if (target != null && target.getIntVal() != null) {
        portNumber(target.getIntVal(), at + ".targetPort", problems);
      } else if (target != null) {
        portName(target.getStrVal(), at + ".targetPort", problems);
      }
    }
  }

  private static void configMap(ConfigMap configMap, Problems problems) {
    Set<String> keys = new HashSet<>();
    for (String key : Objects.requireNonNullElse(configMap.getData(), Map.<String, String>of()).keySet()) {
      if (!CONFIG_KEY.matcher(key).matches() || key.length() > 253) {
        problems.add("data[\"" + key + "\"]", "invalid key (expected: letters, digits, '-', '_' or '.')");
      }
      keys.add(key);
    }
    for (String key : Objects.requireNonNullElse(configMap.getBinaryData(), Map.<String, String>of()).keySet()) {
      if (!keys.add(key)) {
        problems.add("binaryData[\"" + key + "\"]", "also in data");
      }
    }
  }

  private static void podDisruptionBudget(PodDisruptionBudget budget, Problems problems) {
    var spec = budget.getSpec();
    if (spec == null) {
      problems.add("spec", "required");
      return;
    }
    if ((spec.getMinAvailable() == null) == (spec.getMaxUnavailable() == null)) {
      problems.add("spec", "exactly one of minAvailable and maxUnavailable");
    }
    intOrPercent(spec.getMinAvailable(), "spec.minAvailable", problems);
    intOrPercent(spec.getMaxUnavailable(), "spec.maxUnavailable", problems);
    if (spec.getSelector() == null) {
      problems.add("spec.selector", "required (without it the budget selects no pods)");
    } else {
      selector(spec.getSelector(), "spec.selector", problems);
    }
  }

  private static void autoscaler(HorizontalPodAutoscaler autoscaler, Problems problems) {
    var spec = autoscaler.getSpec();
    if (spec == null) {
      problems.add("spec", "required");
      return;
    }
    var target = spec.getScaleTargetRef();
    if (target == null || target.getKind() == null || target.getName() == null) {
      problems.add("spec.scaleTargetRef", "kind and name required");
    }
    if (spec.getMaxReplicas() == null) {
      problems.add("spec.maxReplicas", "required");
    }
    int min = spec.getMinReplicas() == null ? 1 : spec.getMinReplicas();
    if (min < 1) {
      problems.add("spec.minReplicas", min + " (expected: >= 1)");
    }
    if (spec.getMaxReplicas() != null && spec.getMaxReplicas() < min) {
      problems.add("spec.maxReplicas", spec.getMaxReplicas() + " (expected: >= minReplicas " + min + ")");
    }
    List<MetricSpec> metrics = Objects.requireNonNullElse(spec.getMetrics(), List.of());
    for (int i = 0; i < metrics.size(); i++) {
      MetricSpec metric = metrics.get(i);
      String at = "spec.metrics[" + i + "]";
      if (!oneOf(metric.getType(), Set.of("Resource", "ContainerResource", "Pods", "Object", "External"), at + ".type", problems)) {
        continue;
      }
      if (metric.getType().equals("Resource")) {
        if (metric.getResource() == null || metric.getResource().getName() == null) {
          problems.add(at + ".resource.name", "required for type Resource");
        } else {
          metricTarget(metric.getResource().getTarget(), at + ".resource.target", problems);
        }
      }
    }
    if (spec.getBehavior() != null) {
      scalingRules(spec.getBehavior().getScaleUp(), "spec.behavior.scaleUp", problems);
      scalingRules(spec.getBehavior().getScaleDown(), "spec.behavior.scaleDown", problems);
    }
  }

  private static void metricTarget(MetricTarget target, String path, Problems problems) {
    if (target == null) {
      problems.add(path, "required");
      return;
    }
    if (!oneOf(target.getType(), Set.of("Utilization", "Value", "AverageValue"), path + ".type", problems)) {
      return;
    }
    switch (target.getType()) {
      case "Utilization" -> {
        if (target.getAverageUtilization() == null || target.getAverageUtilization() < 1) {
          problems.add(path + ".averageUtilization", "required, >= 1, for type Utilization");
        }
      }
      case "Value" -> {
        if (target.getValue() == null) {
          problems.add(path + ".value", "required for type Value");
        }
      }
      default -> {
        if (target.getAverageValue() == null) {
          problems.add(path + ".averageValue", "required for type AverageValue");
        }
      }
    }
  }

  private static void scalingRules(HPAScalingRules rules, String path, Problems problems) {
    if (rules == null) {
      return;
    }
    Integer window = rules.getStabilizationWindowSeconds();
    if (window != null && (window < 0 || window > 3600)) {
      problems.add(path + ".stabilizationWindowSeconds", window + " (expected: 0..3600)");
    }
    if (rules.getSelectPolicy() != null) {
      oneOf(rules.getSelectPolicy(), Set.of("Max", "Min", "Disabled"), path + ".selectPolicy", problems);
    }
    List<HPAScalingPolicy> policies = Objects.requireNonNullElse(rules.getPolicies(), List.of());
    for (int i = 0; i < policies.size(); i++) {
      HPAScalingPolicy policy = policies.get(i);
      String at = path + ".policies[" + i + "]";
      oneOf(policy.getType(), Set.of("Pods", "Percent"), at + ".type", problems);
      positive(policy.getValue(), at + ".value", problems);
      if (policy.getValue() == null) {
        problems.add(at + ".value", "required");
      }
      if (policy.getPeriodSeconds() == null || policy.getPeriodSeconds() < 1 || policy.getPeriodSeconds() > 1800) {
        problems.add(at + ".periodSeconds", policy.getPeriodSeconds() + " (expected: 1..1800)");
      }
    }
  }

  private static void networkPolicy(NetworkPolicy policy, Problems problems) {
    var spec = policy.getSpec();
    if (spec == null) {
      problems.add("spec", "required");
      return;
    }
    if (spec.getPodSelector() == null) {
      problems.add("spec.podSelector", "required ({} selects every pod of the namespace)");
    } else {
      selector(spec.getPodSelector(), "spec.podSelector", problems);
    }
    for (String type : Objects.requireNonNullElse(spec.getPolicyTypes(), List.<String>of())) {
      oneOf(type, Set.of("Ingress", "Egress"), "spec.policyTypes", problems);
    }
    List<NetworkPolicyIngressRule> rules = Objects.requireNonNullElse(spec.getIngress(), List.of());
    for (int i = 0; i < rules.size(); i++) {
      NetworkPolicyIngressRule rule = rules.get(i);
      String at = "spec.ingress[" + i + "]";
      List<NetworkPolicyPort> ports = Objects.requireNonNullElse(rule.getPorts(), List.of());
      for (int j = 0; j < ports.size(); j++) {
        NetworkPolicyPort port = ports.get(j);
        if (port.getProtocol() != null) {
          oneOf(port.getProtocol(), PROTOCOLS, at + ".ports[" + j + "].protocol", problems);
        }
        IntOrString number = port.getPort();
        if (number != null && number.getIntVal() != null) {
          portNumber(number.getIntVal(), at + ".ports[" + j + "].port", problems);
        } else if (number != null) {
          portName(number.getStrVal(), at + ".ports[" + j + "].port", problems);
        }
      }
      List<NetworkPolicyPeer> peers = Objects.requireNonNullElse(rule.getFrom(), List.of());
      for (int j = 0; j < peers.size(); j++) {
        NetworkPolicyPeer peer = peers.get(j);
        String peerPath = at + ".from[" + j + "]";
        boolean selectors = peer.getPodSelector() != null || peer.getNamespaceSelector() != null;
        if (peer.getIpBlock() != null && selectors) {
          problems.add(peerPath, "ipBlock together with a selector");
        } else if (peer.getIpBlock() == null && !selectors) {
          problems.add(peerPath, "empty peer (expected: podSelector, namespaceSelector or ipBlock)");
        }
        if (peer.getPodSelector() != null) {
          selector(peer.getPodSelector(), peerPath + ".podSelector", problems);
        }
        if (peer.getNamespaceSelector() != null) {
          selector(peer.getNamespaceSelector(), peerPath + ".namespaceSelector", problems);
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Shared rules

  /** Whether a label selector selects a set of labels. */
  static boolean matches(LabelSelector selector, Map<String, String> labels) {
    for (Map.Entry<String, String> wanted : Objects.requireNonNullElse(selector.getMatchLabels(), Map.<String, String>of()).entrySet()) {
      if (!wanted.getValue().equals(labels.get(wanted.getKey()))) {
        return false;
      }
    }
    for (LabelSelectorRequirement requirement : Objects.requireNonNullElse(selector.getMatchExpressions(), List.<LabelSelectorRequirement>of())) {
      String value = labels.get(requirement.getKey());
      List<String> values = Objects.requireNonNullElse(requirement.getValues(), List.of());
      boolean ok = switch (requirement.getOperator()) {
        case "In" -> value != null && values.contains(value);
        case "NotIn" -> value == null || !values.contains(value);
        case "Exists" -> value != null;
        case "DoesNotExist" -> value == null;
        default -> false;
      };
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  private static void selector(LabelSelector selector, String path, Problems problems) {
    labels(selector.getMatchLabels(), path + ".matchLabels", problems);
    List<LabelSelectorRequirement> expressions = Objects.requireNonNullElse(selector.getMatchExpressions(), List.of());
    for (int i = 0; i < expressions.size(); i++) {
      LabelSelectorRequirement requirement = expressions.get(i);
      String at = path + ".matchExpressions[" + i + "]";
      if (oneOf(requirement.getOperator(), SELECTOR_OPERATORS, at + ".operator", problems)) {
        boolean needsValues = requirement.getOperator().equals("In") || requirement.getOperator().equals("NotIn");
        boolean hasValues = requirement.getValues() != null && !requirement.getValues().isEmpty();
        if (needsValues != hasValues) {
          problems.add(at + ".values", needsValues ? "required for " + requirement.getOperator() : "must be empty for " + requirement.getOperator());
        }
      }
    }
  }

  private static void labels(Map<String, String> labels, String path, Problems problems) {
    if (labels == null) {
      return;
    }
    for (Map.Entry<String, String> label : labels.entrySet()) {
      String key = label.getKey();
      int slash = key.indexOf('/');
      String prefix = slash < 0 ? null : key.substring(0, slash);
      String name = slash < 0 ? key : key.substring(slash + 1);
      if (prefix != null && (prefix.length() > 253 || !DNS1123_SUBDOMAIN.matcher(prefix).matches())
          || name.length() > 63 || !QUALIFIED_NAME.matcher(name).matches()) {
        problems.add(path + "[\"" + key + "\"]", "invalid label key");
      }
      String value = label.getValue();
      if (value.length() > 63 || !value.isEmpty() && !QUALIFIED_NAME.matcher(value).matches()) {
        problems.add(path + "[\"" + key + "\"]", "invalid label value \"" + value + "\"");
      }
    }
  }

  private static void name(String name, Pattern pattern, int max, String path, Problems problems) {
    if (name.length() > max || !pattern.matcher(name).matches()) {
      problems.add(path, "\"" + name + "\" (expected: lower-case letters, digits and '-', at most " + max + " characters)");
    }
  }

  private static void portName(String name, String path, Problems problems) {
    if (name == null || name.length() > 15 || !IANA_SVC_NAME.matcher(name).matches() || !name.matches(".*[a-z].*")
        || name.contains("--")) {
      problems.add(path, "\"" + name + "\" (expected: a port name: at most 15 lower-case letters, digits and '-', with a letter)");
    }
  }

  private static void portNumber(Integer port, String path, Problems problems) {
    if (port == null || port < 1 || port > 65535) {
      problems.add(path, port + " (expected: 1..65535)");
    }
  }

  private static void positive(Integer value, String path, Problems problems) {
    if (value != null && value < 1) {
      problems.add(path, value + " (expected: >= 1)");
    }
  }

  private static void intOrPercent(IntOrString value, String path, Problems problems) {
    if (value == null) {
      return;
    }
    if (value.getIntVal() != null ? value.getIntVal() < 0 : !PERCENT.matcher(value.getStrVal()).matches()) {
      problems.add(path, value.getIntVal() != null ? value.getIntVal() + " (expected: >= 0)"
          : "\"" + value.getStrVal() + "\" (expected: an integer or a percentage like \"50%\")");
    }
  }

  private static boolean oneOf(String value, Set<String> allowed, String path, Problems problems) {
    if (value == null || !allowed.contains(value)) {
      problems.add(path, (value == null ? "required" : "\"" + value + "\"") + " (expected one of: " + String.join(", ", allowed.stream().sorted().toList()) + ")");
      return false;
    }
    return true;
  }

  private static void quantity(String text, String path, Problems problems) {
    try {
      Quantity.getAmountInBytes(new Quantity(text));
    } catch (RuntimeException e) {
      problems.add(path, "\"" + text + "\" (expected: a quantity like 500m, 2, 512Mi or 1Gi)");
    }
  }

  private static void nonNegative(Quantity quantity, String path, Problems problems) {
    BigDecimal amount = amount(quantity);
    if (amount == null) {
      problems.add(path, "\"" + quantity + "\" (expected: a quantity like 500m, 2, 512Mi or 1Gi)");
    } else if (amount.signum() < 0) {
      problems.add(path, quantity + " (expected: >= 0)");
    }
  }

  static BigDecimal amount(Quantity quantity) {
    try {
      return Quantity.getAmountInBytes(quantity);
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** Problems of one document, each prefixed with where the document came from. */
  static final class Problems {
    private final String where;
    final List<String> list = new ArrayList<>();

    Problems(String where) {
      this.where = where;
    }

    void add(String path, String problem) {
      list.add(where + " " + (path.isEmpty() ? "" : path + ": ") + problem);
    }
  }
}
