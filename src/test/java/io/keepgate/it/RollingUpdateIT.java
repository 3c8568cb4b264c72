package io.keepgate.it;

import static io.keepgate.testing.TestKubernetes.State.READY;
import static io.keepgate.testing.TestKubernetes.State.TERMINATING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.Await;
import io.keepgate.testing.CountingBackend;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.KeepAliveClients;
import io.keepgate.testing.TestKubernetes;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The claim under test: a rolling update of the backend, as a Deployment with {@code maxSurge: 1,
 * maxUnavailable: 0} runs it, loses nothing. Three pods serve a Service; one at a time, a new pod
 * turns ready, the old one turns terminating, serves what it has in flight through its grace
 * period, then stops and leaves the EndpointSlice. Eight keep-alive clients send throughout. Every
 * request succeeds; a new pod ramps up (slow start); a terminating pod gets no request dispatched
 * after keepgate saw the change (at most the few already on the wire); and the upstream
 * connections opened stay within one pool per pod that ever served.
 */
class RollingUpdateIT {
  private static final int PODS = 3;
  private static final int MAX_PER_ENDPOINT = 4;

  @Test
  void aRollingUpdateUnderLoadLosesNoRequest() throws Exception {
    List<CountingBackend> pods = new ArrayList<>();
    try (TestKubernetes kubernetes = new TestKubernetes()) {
      for (int i = 0; i < 2 * PODS; i++) {
        CountingBackend pod = i == 0 ? CountingBackend.startOn(address(i))
            : CountingBackend.startOn(address(i), pods.get(0).port());
        // a few milliseconds of work per request, so that a pod has requests in flight when it turns terminating
        pod.handler(request -> pod.vertx().setTimer(3, id -> request.response().end("ok")));
        pods.add(pod);
      }
      int port = pods.get(0).port();
      Map<String, TestKubernetes.State> slice = new LinkedHashMap<>();
      for (int i = 0; i < PODS; i++) {
        slice.put(address(i), READY);
      }
      kubernetes.slice("api-rollout", "api", "http", port, slice);

      JsonObject config = kubernetes.gatewayFollowing("api", "http");
      GatewayHarness.upstream(config).put("slowStartMs", 5000); // a new pod ramps up: it shows as warming at first
      GatewayHarness.pool(config).put("maxConnectionsPerEndpoint", MAX_PER_ENDPOINT);
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        Await.until("three pods found", Duration.ofSeconds(10),
            () -> gateway.metric("keepgate_upstream_endpoints", "state=\"ready\"") == PODS);
        KeepAliveClients clients = KeepAliveClients.start(gateway.port(), 8, i -> "/item/" + i);
        try {
          for (int i = 0; i < PODS; i++) {
            CountingBackend pod = pods.get(i);
            Await.until("every pod serves", Duration.ofSeconds(10), () -> pod.requests() > 50);
          }
          for (int step = 0; step < PODS; step++) {
            CountingBackend old = pods.get(step);
            CountingBackend fresh = pods.get(PODS + step);
            slice.put(address(PODS + step), READY); // the surge pod is ready
            kubernetes.slice("api-rollout", "api", "http", port, slice);
            Await.until("the new pod joins, warming up", Duration.ofSeconds(5), () -> "warming".equals(state(gateway, fresh)));
            Await.until("the new pod gets requests", Duration.ofSeconds(10), () -> fresh.requests() > 50);

            slice.put(address(step), TERMINATING);
            kubernetes.slice("api-rollout", "api", "http", port, slice);
            Await.until("keepgate sees the old pod terminating", Duration.ofSeconds(5),
                () -> "draining".equals(state(gateway, old)) || state(gateway, old) == null);
            int atChange = old.requests();
            Await.until("its connections close as their exchanges end", Duration.ofSeconds(10), () -> old.open() == 0);
            int drained = old.requests();
            assertTrue(drained - atChange <= MAX_PER_ENDPOINT * 2,
                "only requests already on the wire reached the terminating pod: " + (drained - atChange));
            int others = fresh.requests();
            Await.until("the grace period: traffic goes on elsewhere", Duration.ofSeconds(10),
                () -> fresh.requests() > others + 100);
            assertEquals(drained, old.requests(), "no request reached the terminating pod after it drained");

            old.close(); // the pod stops, and leaves the slice
            slice.remove(address(step));
            kubernetes.slice("api-rollout", "api", "http", port, slice);
            Await.until("the old pod leaves /admin/pools", Duration.ofSeconds(10), () -> state(gateway, old) == null);
          }
        } finally {
          List<KeepAliveClients.Result> results = clients.stop(Duration.ofSeconds(20));
          assertEquals(List.of(), KeepAliveClients.failures(results),
              "no client saw an error through the rollout");
          assertTrue(results.stream().mapToInt(KeepAliveClients.Result::answered).sum() > 1000);
        }
        double opened = gateway.metric("keepgate_upstream_connections_opened_total");
        assertTrue(opened <= 2 * PODS * MAX_PER_ENDPOINT,
            "connections opened stay within one pool per pod that ever served: " + opened);
        assertEquals(PODS, gateway.metric("keepgate_upstream_endpoints", "state=\"ready\""));
      }
    } finally {
      for (CountingBackend pod : pods) {
        pod.close();
      }
    }
  }

  private static String address(int pod) {
    return "127.0.0." + (2 + pod);
  }

  /** The pod's endpoint state in /admin/pools, null once it is gone. */
  private static String state(GatewayHarness gateway, CountingBackend pod) {
    JsonObject pool = gateway.pool(pod.endpoint());
    return pool == null ? null : pool.getString("state");
  }
}
