package io.keepgate.deploy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Lifecycle;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.WeightedPodAffinityTerm;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.keepgate.config.ConfigException;
import io.keepgate.config.ConfigLoader;
import io.keepgate.config.GatewayConfig;
import io.keepgate.config.KubernetesDiscoveryConfig;
import io.keepgate.deploy.Manifests.Document;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What keepgate's Kubernetes manifests must be to each other, to the gateway config they carry and
 * to the image (SPEC sections 1, 5, 6, 7), beyond what the API server would accept: the config in
 * the ConfigMap is valid for keepgate, the probes and ports are the config's admin and proxy
 * listeners, the grace period covers preStop plus drain, the Services, budget, autoscaler and
 * network policy select the Deployment's pods, the pod runs as the image's non-root user, and
 * every object uses a GA API version. Whether each object is valid for the API server is for the
 * Kubernetes API schemas ({@link KubernetesSchemas}) and the strict read ({@link StrictModelReader});
 * these rules run on what those passed. Every rule broken is one line.
 */
final class KeepgateManifestChecks {

  static final String APP_LABEL = "app.kubernetes.io/name";
  static final String APP = "keepgate";
  /** A GA API version: v1, apps/v1, autoscaling/v2; not v2beta2 or v1alpha1. */
  private static final Pattern GA_API_VERSION = Pattern.compile("([a-z0-9.-]+/)?v[0-9]+");

  /** The gateway config of the ConfigMap: the parsed config (null if invalid) and keepgate's problem lines. */
  record ParsedConfig(GatewayConfig config, List<String> problems) {}

  private KeepgateManifestChecks() {}

  /** Parses the ConfigMap's keepgate.json with keepgate's own loader, as it will run in the pod ({@link ConfigLoader#parseForAnotherHost}). */
  static ParsedConfig parseConfig(String json) {
    try {
      return new ParsedConfig(ConfigLoader.parseForAnotherHost(json), List.of());
    } catch (ConfigException e) {
      return new ParsedConfig(null, e.problems());
    }
  }

  /**
   * @param documents the manifests (those the strict read refused have no resource and are skipped
   *                  but for their API version: they failed already)
   * @param imageUid  the numeric uid of the image's USER, or null when unknown
   */
  static List<String> problems(List<Document> documents, Long imageUid) {
    List<String> problems = new ArrayList<>();
    for (Document document : documents) {
      // Beta and alpha APIs are removed in later Kubernetes releases (autoscaling/v2beta2 in 1.26),
      // while the schemas and models here still ship them
      if (!GA_API_VERSION.matcher(document.apiVersion()).matches()) {
        problems.add(document.kind() + " " + document.name() + ": apiVersion " + document.apiVersion()
            + " is not a GA version (expected: v1, apps/v1, autoscaling/v2, ...; beta APIs are removed from Kubernetes)");
      }
    }
    List<HasMetadata> resources = documents.stream().map(Document::resource).filter(Objects::nonNull).toList();
    for (HasMetadata resource : resources) {
      String what = resource.getKind() + " " + resource.getMetadata().getName();
      if (resource.getMetadata().getNamespace() != null) {
        problems.add(what + ": metadata.namespace is set (expected: none; the namespace is chosen at apply time)");
      }
      Map<String, String> labels = Objects.requireNonNullElse(resource.getMetadata().getLabels(), Map.of());
      if (!APP.equals(labels.get(APP_LABEL))) {
        problems.add(what + ": no label " + APP_LABEL + ": " + APP);
      }
    }
    List<Deployment> deployments = only(resources, Deployment.class);
    if (deployments.size() != 1) {
      problems.add(deployments.size() + " Deployments (expected: 1)");
      return problems;
    }
    Deployment deployment = deployments.get(0);
    var template = deployment.getSpec() == null ? null : deployment.getSpec().getTemplate();
    PodSpec pod = template == null ? null : template.getSpec();
    if (pod == null || pod.getContainers().isEmpty()) {
      problems.add("Deployment: no pod template with a container");
      return problems;
    }
    Map<String, String> podLabels = template.getMetadata() == null
        ? Map.of() : Objects.requireNonNullElse(template.getMetadata().getLabels(), Map.of());
    if (!APP.equals(podLabels.get(APP_LABEL))) {
      problems.add("Deployment: pod template lacks the label " + APP_LABEL + ": " + APP);
    }
    if (pod.getContainers().size() != 1) {
      problems.add("Deployment: " + pod.getContainers().size() + " containers (expected: 1, keepgate)");
    }
    Container container = pod.getContainers().get(0);
    String c = "Deployment container " + container.getName() + ": ";

    // The config: where the container reads it, which ConfigMap holds it, whether keepgate accepts it
    ParsedConfig parsed = configOf(resources, pod, container, c, problems);
    if (parsed == null) {
      return problems;
    }
    problems.addAll(parsed.problems().stream().map(problem -> "ConfigMap keepgate.json: " + problem).toList());
    GatewayConfig config = parsed.config();
    if (config == null) {
      return problems;
    }
    if (!config.cluster().enabled()) {
      problems.add("ConfigMap keepgate.json: cluster.enabled is not true (expected: every pod a Hazelcast member)");
    }
    if (!config.cluster().host().isEmpty()) {
      problems.add("ConfigMap keepgate.json: cluster.host \"" + config.cluster().host()
          + "\" (expected: empty, so that each pod's member binds its own $POD_IP)");
    }
    if (!Set.of("0.0.0.0", "::").contains(config.admin().host())) {
      problems.add("ConfigMap keepgate.json: admin.host " + config.admin().host() + " (expected: 0.0.0.0, or the kubelet's probes cannot reach it)");
    }
    if (!Set.of("0.0.0.0", "::").contains(config.server().host())) {
      problems.add("ConfigMap keepgate.json: server.host " + config.server().host() + " (expected: 0.0.0.0)");
    }
    String serviceDns = config.cluster().kubernetesServiceDns();
    if (serviceDns.isEmpty()) {
      problems.add("ConfigMap keepgate.json: cluster.kubernetes.serviceDns is empty (expected: the headless Service)");
    }

    if (config.upstreams().stream().anyMatch(u -> u.discovery() instanceof KubernetesDiscoveryConfig)) {
      problems.addAll(discoveryAccess(resources, pod));
    }

    // Container ports are the config's listeners
    Map<String, Integer> listeners = new java.util.LinkedHashMap<>(Map.of("server.port", config.server().port(),
        "admin.port", config.admin().port(), "cluster.port", config.cluster().port()));
    if (config.server().tls().enabled()) {
      listeners.put("server.tls.port", config.server().tls().port());
    }
    List<ContainerPort> ports = Objects.requireNonNullElse(container.getPorts(), List.of());
    listeners.forEach((key, port) -> {
      if (ports.stream().noneMatch(p -> p.getContainerPort().equals(port))) {
        problems.add(c + "no containerPort " + port + " (" + key + ")");
      }
    });
    for (ContainerPort port : ports) {
      if (!listeners.containsValue(port.getContainerPort())) {
        problems.add(c + "containerPort " + port.getContainerPort() + " is none of the config's listeners " + listeners);
      }
    }

    // Certificates and keys of the TLS listener come from a Secret volume, mounted without subPath
    // (a subPath mount never sees a renewed certificate)
    for (var files : config.server().tls().enabled() ? config.server().tls().certificates() : List.<io.keepgate.config.TlsConfig.CertificateFiles>of()) {
      for (String file : List.of(files.certFile().toString(), files.keyFile().toString())) {
        VolumeMount mount = Objects.requireNonNullElse(container.getVolumeMounts(), List.<VolumeMount>of()).stream()
            .filter(m -> file.startsWith(m.getMountPath().replaceAll("/$", "") + "/")).findFirst().orElse(null);
        Volume volume = mount == null ? null : volume(pod, mount.getName());
        if (volume == null || volume.getSecret() == null || mount.getSubPath() != null) {
          problems.add(c + "server.tls file " + file + " is on no Secret volume mounted as a directory");
        }
      }
    }

    // Probes on the admin listener
    probe(container.getReadinessProbe(), "readinessProbe", "/health/ready", config.admin().port(), container, c, problems);
    probe(container.getLivenessProbe(), "livenessProbe", "/health/live", config.admin().port(), container, c, problems);

    // Shutdown: preStop, then SIGTERM and drainTimeoutMs, all inside the grace period
    long preStop = preStopSeconds(container.getLifecycle(), c, problems);
    long grace = pod.getTerminationGracePeriodSeconds() == null ? 30 : pod.getTerminationGracePeriodSeconds();
    long drain = (config.server().drainTimeout().toMillis() + 999) / 1000;
    if (grace <= preStop + drain) {
      problems.add("Deployment: terminationGracePeriodSeconds " + grace + " (expected: > preStop " + preStop
          + " s + server.drainTimeoutMs " + drain + " s, or the kubelet kills in-flight requests)");
    }

    // Environment, security, resources, spreading
    EnvVar podIp = Objects.requireNonNullElse(container.getEnv(), List.<EnvVar>of()).stream()
        .filter(variable -> "POD_IP".equals(variable.getName())).findFirst().orElse(null);
    if (podIp == null || podIp.getValueFrom() == null || podIp.getValueFrom().getFieldRef() == null
        || !"status.podIP".equals(podIp.getValueFrom().getFieldRef().getFieldPath())) {
      problems.add(c + "no env POD_IP from the downward API (fieldRef status.podIP) for the Hazelcast member");
    }
    security(pod, container, imageUid, c, problems);
    resources(container, c, problems);
    LabelSelector spread = pod.getAffinity() == null || pod.getAffinity().getPodAntiAffinity() == null ? null
        : Objects.requireNonNullElse(pod.getAffinity().getPodAntiAffinity().getPreferredDuringSchedulingIgnoredDuringExecution(),
                List.<WeightedPodAffinityTerm>of()).stream()
            .map(term -> term.getPodAffinityTerm())
            .filter(term -> "kubernetes.io/hostname".equals(term.getTopologyKey()))
            .map(term -> term.getLabelSelector()).filter(Objects::nonNull).findFirst().orElse(null);
    if (!LabelSelectors.matches(spread, podLabels)) {
      problems.add("Deployment: no preferred podAntiAffinity on kubernetes.io/hostname selecting keepgate's pods");
    }
    String image = Objects.requireNonNullElse(container.getImage(), "");
    String tag = image.contains("@") ? "digest" : image.lastIndexOf(':') > image.lastIndexOf('/') ? image.substring(image.lastIndexOf(':') + 1) : null;
    if (tag == null || tag.equals("latest")) {
      problems.add(c + "image " + image + " (expected: an explicit version tag, not latest)");
    }

    services(resources, podLabels, container, config, serviceDns, problems);
    int replicas = deployment.getSpec().getReplicas() == null ? 1 : deployment.getSpec().getReplicas();
    budget(resources, podLabels, replicas, problems);
    autoscaler(resources, deployment, container, replicas, problems);
    networkPolicy(resources, podLabels, container, config, problems);
    return problems;
  }

  private static ParsedConfig configOf(List<HasMetadata> resources, PodSpec pod, Container container, String c, List<String> problems) {
    List<String> args = Objects.requireNonNullElse(container.getArgs(), List.of());
    int flag = args.indexOf("--config");
    String path = flag >= 0 && flag + 1 < args.size() ? args.get(flag + 1) : null;
    String env = Objects.requireNonNullElse(container.getEnv(), List.<EnvVar>of()).stream()
        .filter(variable -> "KEEPGATE_CONFIG".equals(variable.getName())).map(EnvVar::getValue).findFirst().orElse(null);
    if (path == null) {
      path = env;
    } else if (env != null && !env.equals(path)) {
      problems.add(c + "env KEEPGATE_CONFIG " + env + " differs from --config " + path);
    }
    if (path == null) {
      problems.add(c + "no --config argument nor KEEPGATE_CONFIG (expected: the config in the ConfigMap volume)");
      return null;
    }
    String file = path;
    VolumeMount mount = Objects.requireNonNullElse(container.getVolumeMounts(), List.<VolumeMount>of()).stream()
        .filter(m -> file.equals(m.getMountPath()) || file.startsWith(m.getMountPath().replaceAll("/$", "") + "/"))
        .findFirst().orElse(null);
    if (mount == null) {
      problems.add(c + "the config " + path + " is on no volume mount");
      return null;
    }
    if (mount.getSubPath() != null || mount.getSubPathExpr() != null) {
      problems.add(c + "config volume mounted with subPath (a subPath mount never sees ConfigMap updates)");
    }
    if (!Boolean.TRUE.equals(mount.getReadOnly())) {
      problems.add(c + "config volume mount is not readOnly");
    }
    Volume volume = volume(pod, mount.getName());
    if (volume == null || volume.getConfigMap() == null) {
      problems.add(c + "the config " + path + " is not on a ConfigMap volume");
      return null;
    }
    String key = file.equals(mount.getMountPath())
        ? Objects.requireNonNullElse(mount.getSubPath(), "")
        : path.substring(mount.getMountPath().replaceAll("/$", "").length() + 1);
    String configMapName = volume.getConfigMap().getName();
    ConfigMap configMap = only(resources, ConfigMap.class).stream()
        .filter(map -> map.getMetadata().getName().equals(configMapName)).findFirst().orElse(null);
    if (configMap == null) {
      problems.add(c + "ConfigMap " + configMapName + " (config volume) is not among the manifests");
      return null;
    }
    String json = configMap.getData() == null ? null : configMap.getData().get(key);
    if (json == null) {
      problems.add("ConfigMap " + configMapName + ": no key " + key + " (the file " + path + " the container reads)");
      return null;
    }
    return parseConfig(json);
  }

  private static void probe(Probe probe, String name, String path, int adminPort, Container container, String c, List<String> problems) {
    HTTPGetAction get = probe == null ? null : probe.getHttpGet();
    if (get == null) {
      problems.add(c + "no " + name + " httpGet " + path + " on the admin port");
      return;
    }
    if (!path.equals(get.getPath())) {
      problems.add(c + name + " path " + get.getPath() + " (expected: " + path + ")");
    }
    Integer port = containerPort(get.getPort(), container);
    if (port == null) {
      problems.add(c + name + " port " + get.getPort().getValue() + " is no port of the container (expected: admin.port " + adminPort + ")");
    } else if (port != adminPort) {
      problems.add(c + name + " port " + get.getPort().getValue() + " is " + port + " (expected: admin.port " + adminPort + ")");
    }
    if (get.getScheme() != null && !get.getScheme().equals("HTTP")) {
      problems.add(c + name + " scheme " + get.getScheme() + " (expected: HTTP, the admin listener has no TLS)");
    }
  }

  private static long preStopSeconds(Lifecycle lifecycle, String c, List<String> problems) {
    if (lifecycle == null || lifecycle.getPreStop() == null) {
      problems.add(c + "no lifecycle.preStop (expected: a pause while the endpoint removal propagates)");
      return 0;
    }
    var preStop = lifecycle.getPreStop();
    if (preStop.getSleep() != null) {
      return preStop.getSleep().getSeconds();
    }
    List<String> command = preStop.getExec() == null ? List.of() : preStop.getExec().getCommand();
    if (command.size() == 2 && Set.of("sleep", "/bin/sleep", "/usr/bin/sleep").contains(command.get(0))
        && command.get(1).matches("\\d+")) {
      return Long.parseLong(command.get(1));
    }
    problems.add(c + "lifecycle.preStop " + command + " (expected: [\"sleep\", \"<seconds>\"] or a sleep action)");
    return 0;
  }

  private static void security(PodSpec pod, Container container, Long imageUid, String c, List<String> problems) {
    PodSecurityContext podContext = pod.getSecurityContext() == null ? new PodSecurityContext() : pod.getSecurityContext();
    SecurityContext context = container.getSecurityContext() == null ? new SecurityContext() : container.getSecurityContext();
    Boolean nonRoot = context.getRunAsNonRoot() != null ? context.getRunAsNonRoot() : podContext.getRunAsNonRoot();
    if (!Boolean.TRUE.equals(nonRoot)) {
      problems.add(c + "runAsNonRoot is not true");
    }
    Long uid = context.getRunAsUser() != null ? context.getRunAsUser() : podContext.getRunAsUser();
    if (uid != null && uid == 0) {
      problems.add(c + "runAsUser 0");
    }
    if (uid != null && imageUid != null && !uid.equals(imageUid)) {
      problems.add(c + "runAsUser " + uid + " differs from the image's USER " + imageUid);
    }
    if (!Boolean.TRUE.equals(context.getReadOnlyRootFilesystem())) {
      problems.add(c + "readOnlyRootFilesystem is not true");
    } else if (Objects.requireNonNullElse(container.getVolumeMounts(), List.<VolumeMount>of()).stream()
        .noneMatch(mount -> mount.getMountPath().equals("/tmp"))) {
      problems.add(c + "read-only root but nothing writable at /tmp (the JVM and Netty's native library need it)");
    }
    if (!Boolean.FALSE.equals(context.getAllowPrivilegeEscalation())) {
      problems.add(c + "allowPrivilegeEscalation is not false");
    }
    if (Boolean.TRUE.equals(context.getPrivileged())) {
      problems.add(c + "privileged");
    }
    if (context.getCapabilities() == null || context.getCapabilities().getDrop() == null
        || !context.getCapabilities().getDrop().contains("ALL")) {
      problems.add(c + "capabilities do not drop ALL");
    }
    if (context.getCapabilities() != null && context.getCapabilities().getAdd() != null && !context.getCapabilities().getAdd().isEmpty()) {
      problems.add(c + "adds capabilities " + context.getCapabilities().getAdd());
    }
  }

  private static void resources(Container container, String c, List<String> problems) {
    var resources = container.getResources();
    for (String kind : List.of("requests", "limits")) {
      Map<String, Quantity> values = resources == null ? null : kind.equals("requests") ? resources.getRequests() : resources.getLimits();
      for (String resource : List.of("cpu", "memory")) {
        if (values == null || !values.containsKey(resource)) {
          problems.add(c + "no resources." + kind + "." + resource);
        }
      }
    }
  }

  private static void services(List<HasMetadata> resources, Map<String, String> podLabels, Container container,
      GatewayConfig config, String serviceDns, List<String> problems) {
    Service traffic = null;
    Service members = null;
    for (Service service : only(resources, Service.class)) {
      String s = "Service " + service.getMetadata().getName() + ": ";
      if (service.getSpec() == null) {
        problems.add(s + "no spec");
        continue;
      }
      Map<String, String> selector = service.getSpec().getSelector();
      if (selector == null || selector.isEmpty() || !podLabels.entrySet().containsAll(selector.entrySet())) {
        problems.add(s + "selector " + selector + " does not select keepgate's pods " + podLabels);
      }
      for (ServicePort port : Objects.requireNonNullElse(service.getSpec().getPorts(), List.<ServicePort>of())) {
        IntOrString target = port.getTargetPort() == null ? new IntOrString(port.getPort()) : port.getTargetPort();
        Integer resolved = containerPort(target, container);
        if (resolved == null) {
          problems.add(s + "targetPort " + target.getValue() + " is no port of the keepgate container");
        } else if (proxyPorts(config).contains(resolved) && !"None".equals(service.getSpec().getClusterIP())) {
          traffic = service;
        } else if (resolved == config.cluster().port() && "None".equals(service.getSpec().getClusterIP())) {
          members = service;
        } else if (!proxyPorts(config).contains(resolved)) {
          problems.add(s + "port " + port.getPort() + " exposes container port " + resolved
              + " (expected: only proxy ports in a ClusterIP Service, only the member port in the headless one)");
        }
      }
    }
    if (traffic == null) {
      problems.add("no Service for client traffic to server.port " + config.server().port());
    }
    if (members == null) {
      problems.add("no headless Service (clusterIP: None) for member discovery on cluster.port " + config.cluster().port());
      return;
    }
    if (!Boolean.TRUE.equals(members.getSpec().getPublishNotReadyAddresses())) {
      problems.add("Service " + members.getMetadata().getName() + ": publishNotReadyAddresses is not true (members must find each other before they are ready)");
    }
    String first = serviceDns.split("\\.")[0];
    if (!first.equals(members.getMetadata().getName())) {
      problems.add("ConfigMap keepgate.json: cluster.kubernetes.serviceDns \"" + serviceDns + "\" does not name the headless Service "
          + members.getMetadata().getName());
    }
  }

  private static void budget(List<HasMetadata> resources, Map<String, String> podLabels, int replicas, List<String> problems) {
    List<PodDisruptionBudget> budgets = only(resources, PodDisruptionBudget.class);
    if (budgets.isEmpty()) {
      problems.add("no PodDisruptionBudget");
    }
    for (PodDisruptionBudget budget : budgets) {
      String b = "PodDisruptionBudget " + budget.getMetadata().getName() + ": ";
      if (budget.getSpec() == null || !LabelSelectors.matches(budget.getSpec().getSelector(), podLabels)) {
        problems.add(b + "does not select keepgate's pods (a budget without a selector protects none)");
        continue;
      }
      IntOrString min = budget.getSpec().getMinAvailable();
      IntOrString max = budget.getSpec().getMaxUnavailable();
      if (min != null && min.getIntVal() != null && min.getIntVal() >= replicas
          || max != null && max.getIntVal() != null && max.getIntVal() < 1) {
        problems.add(b + "allows no voluntary eviction at " + replicas + " replicas (node drains would hang)");
      }
    }
  }

  private static void autoscaler(List<HasMetadata> resources, Deployment deployment, Container container, int replicas, List<String> problems) {
    List<HorizontalPodAutoscaler> autoscalers = only(resources, HorizontalPodAutoscaler.class);
    if (autoscalers.isEmpty()) {
      problems.add("no HorizontalPodAutoscaler");
    }
    for (HorizontalPodAutoscaler autoscaler : autoscalers) {
      String h = "HorizontalPodAutoscaler " + autoscaler.getMetadata().getName() + ": ";
      if (autoscaler.getSpec() == null) {
        problems.add(h + "no spec");
        continue;
      }
      var target = autoscaler.getSpec().getScaleTargetRef();
      if (!"Deployment".equals(target.getKind()) || !"apps/v1".equals(target.getApiVersion())
          || !deployment.getMetadata().getName().equals(target.getName())) {
        problems.add(h + "scaleTargetRef " + target.getApiVersion() + " " + target.getKind() + " " + target.getName()
            + " (expected: apps/v1 Deployment " + deployment.getMetadata().getName() + ")");
      }
      boolean cpu = Objects.requireNonNullElse(autoscaler.getSpec().getMetrics(), List.<io.fabric8.kubernetes.api.model.autoscaling.v2.MetricSpec>of())
          .stream().anyMatch(metric -> "Resource".equals(metric.getType()) && metric.getResource() != null
              && "cpu".equals(metric.getResource().getName()));
      if (!cpu) {
        problems.add(h + "no CPU resource metric");
      }
      int min = autoscaler.getSpec().getMinReplicas() == null ? 1 : autoscaler.getSpec().getMinReplicas();
      if (replicas < min || replicas > autoscaler.getSpec().getMaxReplicas()) {
        problems.add(h + "Deployment replicas " + replicas + " outside minReplicas..maxReplicas");
      }
      if (min < 2) {
        problems.add(h + "minReplicas " + min + " (expected: >= 2, a gateway is not a single point of failure)");
      }
    }
  }

  private static void networkPolicy(List<HasMetadata> resources, Map<String, String> podLabels, Container container,
      GatewayConfig config, List<String> problems) {
    List<NetworkPolicy> policies = only(resources, NetworkPolicy.class);
    if (policies.isEmpty()) {
      problems.add("no NetworkPolicy");
    }
    int admin = config.admin().port();
    int member = config.cluster().port();
    for (NetworkPolicy policy : policies) {
      String n = "NetworkPolicy " + policy.getMetadata().getName() + ": ";
      if (policy.getSpec() == null || !LabelSelectors.matches(policy.getSpec().getPodSelector(), podLabels)) {
        problems.add(n + "podSelector does not select keepgate's pods");
        continue;
      }
      List<String> types = Objects.requireNonNullElse(policy.getSpec().getPolicyTypes(), List.of());
      if (!types.contains("Ingress")) {
        problems.add(n + "policyTypes lacks Ingress");
      }
      java.util.Set<Integer> openProxyPorts = new java.util.HashSet<>();
      boolean memberAllowed = false;
      boolean adminAllowed = false;
      for (NetworkPolicyIngressRule rule : Objects.requireNonNullElse(policy.getSpec().getIngress(), List.<NetworkPolicyIngressRule>of())) {
        List<NetworkPolicyPort> ports = Objects.requireNonNullElse(rule.getPorts(), List.of());
        List<NetworkPolicyPeer> from = Objects.requireNonNullElse(rule.getFrom(), List.of());
        if (ports.isEmpty()) {
          problems.add(n + "an ingress rule without ports opens every port" + (from.isEmpty() ? " to everyone" : ""));
          continue;
        }
        for (NetworkPolicyPort port : ports) {
          Integer number = port.getPort() == null ? null : containerPort(port.getPort(), container);
          if (number == null) {
            problems.add(n + "ingress port " + (port.getPort() == null ? "(all)" : port.getPort().getValue()) + " is no port of the keepgate container");
          } else if (proxyPorts(config).contains(number)) {
            if (from.isEmpty()) {
              openProxyPorts.add(number);
            }
          } else if (number == member) {
            boolean onlyKeepgate = !from.isEmpty() && from.stream().allMatch(peer -> peer.getIpBlock() == null
                && peer.getNamespaceSelector() == null && peer.getPodSelector() != null
                && LabelSelectors.matches(peer.getPodSelector(), podLabels)
                && !Objects.requireNonNullElse(peer.getPodSelector().getMatchLabels(), Map.of()).isEmpty());
            if (!onlyKeepgate) {
              problems.add(n + "cluster.port " + member + " is reachable from more than keepgate's own pods");
            }
            memberAllowed = true;
          } else if (number == admin) {
            if (from.isEmpty()) {
              problems.add(n + "admin.port " + admin + " is open to everyone (expected: only the scrapers)");
            }
            adminAllowed = true;
          }
        }
      }
      for (int proxyPort : proxyPorts(config)) {
        if (!openProxyPorts.contains(proxyPort)) {
          problems.add(n + "proxy port " + proxyPort + " is not open to clients");
        }
      }
      if (!memberAllowed) {
        problems.add(n + "cluster.port " + member + " is closed to the other members");
      }
      if (!adminAllowed) {
        problems.add(n + "admin.port " + admin + " is closed to the scrapers");
      }
    }
  }

  /** A port number or a port name of the container, as a number; null if the name is unknown. */
  static Integer containerPort(IntOrString port, Container container) {
    if (port == null) {
      return null;
    }
    if (port.getIntVal() != null) {
      return port.getIntVal();
    }
    return Objects.requireNonNullElse(container.getPorts(), List.<ContainerPort>of()).stream()
        .filter(p -> port.getStrVal().equals(p.getName())).map(ContainerPort::getContainerPort).findFirst().orElse(null);
  }

  /**
   * An upstream follows EndpointSlices: the pod runs as a ServiceAccount with its token mounted,
   * and a RoleBinding gives that account a Role allowing get, list and watch on them.
   */
  private static List<String> discoveryAccess(List<HasMetadata> resources, PodSpec pod) {
    String account = pod.getServiceAccountName();
    String d = "Deployment (an upstream uses discovery.kubernetes): ";
    if (account == null || only(resources, ServiceAccount.class).stream()
        .noneMatch(a -> a.getMetadata().getName().equals(account))) {
      return List.of(d + "serviceAccountName " + account + " names no ServiceAccount of the manifests");
    }
    if (Boolean.FALSE.equals(pod.getAutomountServiceAccountToken())) {
      return List.of(d + "automountServiceAccountToken is false (expected: the token that reads EndpointSlices)");
    }
    Set<String> needed = Set.of("get", "list", "watch");
    boolean granted = only(resources, RoleBinding.class).stream()
        .filter(binding -> Objects.requireNonNullElse(binding.getSubjects(), List.<Subject>of()).stream()
            .anyMatch(subject -> "ServiceAccount".equals(subject.getKind()) && account.equals(subject.getName())))
        .flatMap(binding -> only(resources, Role.class).stream()
            .filter(role -> "Role".equals(binding.getRoleRef().getKind())
                && role.getMetadata().getName().equals(binding.getRoleRef().getName())))
        .flatMap(role -> Objects.requireNonNullElse(role.getRules(), List.<PolicyRule>of()).stream())
        .anyMatch(rule -> Objects.requireNonNullElse(rule.getApiGroups(), List.of()).contains("discovery.k8s.io")
            && Objects.requireNonNullElse(rule.getResources(), List.of()).contains("endpointslices")
            && rule.getVerbs().containsAll(needed));
    return granted ? List.of()
        : List.of(d + "no Role bound to ServiceAccount " + account + " allows get, list, watch on discovery.k8s.io endpointslices");
  }

  /** The pod's volume of that name, or null. */
  private static Volume volume(PodSpec pod, String name) {
    return Objects.requireNonNullElse(pod.getVolumes(), List.<Volume>of()).stream()
        .filter(v -> v.getName().equals(name)).findFirst().orElse(null);
  }

  private static <T> List<T> only(List<HasMetadata> resources, Class<T> type) {
    return resources.stream().filter(type::isInstance).map(type::cast).toList();
  }

  /** The proxy listeners' ports: server.port, and server.tls.port when the TLS listener is on. */
  private static List<Integer> proxyPorts(GatewayConfig config) {
    return config.server().tls().enabled()
        ? List.of(config.server().port(), config.server().tls().port()) : List.of(config.server().port());
  }
}
