package io.keepgate.testing;

import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A Kubernetes API server for discovery tests: fabric8's mock server in CRUD mode (it stores what
 * the test writes and streams watch events), behind a {@link TcpRelay} so a test can drop the
 * gateway's watch or make the API server unreachable. The test writes EndpointSlices of one
 * namespace through its own client.
 *
 * <p>Threading: test thread.
 */
public final class TestKubernetes implements AutoCloseable {
  public static final String NAMESPACE = "shop";

  /** An endpoint's conditions, as the EndpointSlice controller sets them. */
  public enum State {
    READY(true, true, false),
    /** Terminating, still serving its in-flight requests (a pod in its grace period). */
    TERMINATING(false, true, true),
    /** Failing its readiness probe. */
    NOT_READY(false, false, false);

    final boolean ready;
    final boolean serving;
    final boolean terminating;

    State(boolean ready, boolean serving, boolean terminating) {
      this.ready = ready;
      this.serving = serving;
      this.terminating = terminating;
    }
  }

  private final KubernetesMockServer server;
  private final KubernetesClient client;
  private final TcpRelay relay;

  public TestKubernetes() throws IOException {
    server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
        new KubernetesCrudDispatcher(), false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    client = server.createClient();
    relay = new TcpRelay(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getPort()));
  }

  /** The URL the gateway reaches the API server at (through the relay). */
  public String apiServer() {
    return "http://127.0.0.1:" + relay.port();
  }

  public TcpRelay relay() {
    return relay;
  }

  /** A gateway config ({@link GatewayHarness#config}) whose one upstream follows {@code service} here. */
  public JsonObject gatewayFollowing(String service, Object port) {
    JsonObject config = GatewayHarness.config("127.0.0.1:1");
    JsonObject upstream = GatewayHarness.upstream(config);
    upstream.remove("endpoints");
    upstream.put("discovery", new JsonObject().put("kubernetes", new JsonObject().put("service", service)
        .put("namespace", NAMESPACE).put("port", port).put("apiServer", apiServer())));
    return config;
  }

  /**
   * Creates or replaces the EndpointSlice {@code name} of {@code service}: every address in
   * {@code endpoints} with its state, on {@code port} named {@code portName}.
   */
  public void slice(String name, String service, String portName, int port, Map<String, State> endpoints) {
    EndpointSliceBuilder slice = new EndpointSliceBuilder()
        .withNewMetadata().withName(name).withNamespace(NAMESPACE)
        .addToLabels("kubernetes.io/service-name", service).endMetadata()
        .withAddressType("IPv4")
        .addNewPort().withName(portName).withPort(port).withProtocol("TCP").endPort();
    endpoints.forEach((address, state) -> slice.addNewEndpoint().withAddresses(address)
        .withNewConditions().withReady(state.ready).withServing(state.serving).withTerminating(state.terminating)
        .endConditions().endEndpoint());
    client.resource(slice.build()).inNamespace(NAMESPACE).createOr(existing -> existing.update());
  }

  /** {@link #slice} with a map built from alternating address, state pairs. */
  public void slice(String name, String service, String portName, int port, Object... addressesAndStates) {
    Map<String, State> endpoints = new LinkedHashMap<>();
    for (int i = 0; i < addressesAndStates.length; i += 2) {
      endpoints.put((String) addressesAndStates[i], (State) addressesAndStates[i + 1]);
    }
    slice(name, service, portName, port, endpoints);
  }

  public void deleteSlice(String name) {
    client.resources(EndpointSlice.class).inNamespace(NAMESPACE).withName(name).delete();
  }

  @Override
  public void close() throws IOException {
    relay.close();
    client.close();
    server.destroy();
  }
}
