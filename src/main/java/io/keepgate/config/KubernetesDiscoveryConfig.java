package io.keepgate.config;

/**
 * An upstream's endpoints from Kubernetes ({@code upstreams[].discovery.kubernetes}): the ready
 * endpoints of a Service's EndpointSlices, followed with a list and a watch.
 *
 * @param service    the Service's name (the EndpointSlices labelled {@code kubernetes.io/service-name})
 * @param namespace  its namespace; empty = the pod's own (from its service account), else the
 *                   kubeconfig's, else {@code default}
 * @param portName   the name of the Service port whose target port the endpoints listen on, or
 *                   empty when {@code portNumber} is given
 * @param portNumber the port the pods listen on (the Service's {@code targetPort}), or 0 when
 *                   {@code portName} is given
 * @param apiServer  the API server's URL; empty = in the cluster, from the pod's service account,
 *                   or outside it, from the kubeconfig
 */
public record KubernetesDiscoveryConfig(String service, String namespace, String portName, int portNumber,
    String apiServer) implements DiscoveryConfig {

  @Override
  public String source() {
    return "kubernetes";
  }

  /** The port as written in the config: its name or its number. */
  public Object port() {
    return portName.isEmpty() ? portNumber : portName;
  }
}
