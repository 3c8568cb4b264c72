package io.keepgate.it;

import static io.keepgate.testing.TestKubernetes.State.NOT_READY;
import static io.keepgate.testing.TestKubernetes.State.READY;
import static io.keepgate.testing.TestKubernetes.State.TERMINATING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.Await;
import io.keepgate.testing.CountingBackend;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.KeepAliveClients;
import io.keepgate.testing.RawClient;
import io.keepgate.testing.TestKubernetes;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The claim under test: an upstream that follows a Kubernetes Service's EndpointSlices (fabric8's
 * mock API server in CRUD mode, over real sockets) sends requests to the ready endpoints only;
 * one that turns terminating or not ready, or disappears, gets no new request and drains; a
 * dropped watch resumes and catches up, an unreachable API server keeps the last set; readiness
 * waits for the first endpoints; and clients see no error through any of it. Backends listen on 127.0.0.2-5, one port.
 */
class KubernetesDiscoveryIT {

  private static double changes(GatewayHarness gateway) {
    return gateway.metric("keepgate_discovery_updates_total", "result=\"changed\"", "source=\"kubernetes\"");
  }

  @Test
  void endpointsFollowTheSlicesUnderLoadWithoutAnError() throws Exception {
    try (TestKubernetes kubernetes = new TestKubernetes();
        CountingBackend a = CountingBackend.startOn("127.0.0.2");
        CountingBackend b = CountingBackend.startOn("127.0.0.3", a.port());
        CountingBackend c = CountingBackend.startOn("127.0.0.4", a.port())) {
      kubernetes.slice("api-x1", "api", "http", a.port(), "127.0.0.2", READY, "127.0.0.3", NOT_READY);
      kubernetes.slice("other-x1", "other", "http", a.port(), "127.0.0.4", READY); // another Service's slice
      try (GatewayHarness gateway = GatewayHarness.start(kubernetes.gatewayFollowing("api", "http"))) {
        Await.until("the ready endpoint is found", Duration.ofSeconds(10), () -> changes(gateway) >= 1.0);
        KeepAliveClients clients = KeepAliveClients.start(gateway.port(), 8, i -> "/item/" + i);
        try {
          Await.until("the ready endpoint serves", Duration.ofSeconds(10), () -> a.requests() > 100);
          assertEquals(0, b.requests(), "not ready: no request");
          assertEquals(0, c.requests(), "another Service's endpoint: no request");

          kubernetes.slice("api-x1", "api", "http", a.port(), "127.0.0.2", READY, "127.0.0.3", READY);
          Await.until("the endpoint that turned ready gets requests", Duration.ofSeconds(10), () -> b.requests() > 100);

          kubernetes.slice("api-x1", "api", "http", a.port(), "127.0.0.2", TERMINATING, "127.0.0.3", READY);
          Await.until("the terminating endpoint drains", Duration.ofSeconds(10),
              () -> gateway.metric("keepgate_upstream_connections_closed_total", "reason=\"drained\"") >= 1.0
                  && a.open() == 0);
          int aServed = a.requests();

          // a second slice of the same Service (large Services have several)
          kubernetes.slice("api-x2", "api", "http", a.port(), "127.0.0.4", READY);
          Await.until("an endpoint of a second slice gets requests", Duration.ofSeconds(10), () -> c.requests() > 100);
          assertEquals(aServed, a.requests(), "no new request reached the terminating endpoint");
          assertEquals(2.0, gateway.metric("keepgate_upstream_endpoints", "state=\"ready\""));

          kubernetes.deleteSlice("api-x2");
          Await.until("the deleted slice's endpoint drains", Duration.ofSeconds(10),
              () -> c.open() == 0 && gateway.metric("keepgate_upstream_endpoints", "state=\"ready\"") == 1.0);
          int cServed = c.requests();
          int bServed = b.requests();
          Await.until("the load goes on on the one left", Duration.ofSeconds(10), () -> b.requests() > bServed + 200);
          assertEquals(cServed, c.requests(), "no new request reached the removed endpoint");
        } finally {
          List<KeepAliveClients.Result> results = clients.stop(Duration.ofSeconds(20));
          assertEquals(List.of(), KeepAliveClients.failures(results),
              "no client saw an error through every change");
        }
      }
    }
  }

  @Test
  void aDroppedWatchResumesAndAnUnreachableApiServerKeepsTheLastSet() throws Exception {
    try (TestKubernetes kubernetes = new TestKubernetes();
        CountingBackend a = CountingBackend.startOn("127.0.0.2");
        CountingBackend b = CountingBackend.startOn("127.0.0.3", a.port());
        CountingBackend c = CountingBackend.startOn("127.0.0.4", a.port())) {
      kubernetes.slice("api-x1", "api", "web", a.port(), "127.0.0.2", READY);
      try (GatewayHarness gateway = GatewayHarness.start(kubernetes.gatewayFollowing("api", "web"))) {
        Await.until("the endpoint is found", Duration.ofSeconds(10), () -> changes(gateway) >= 1.0);
        KeepAliveClients clients = KeepAliveClients.start(gateway.port(), 4, i -> "/item/" + i);
        try {
          // the watch connection is reset under the gateway, and the slice changes meanwhile: the
          // informer watches again from the version it saw, or, when that watch is refused (fabric8's
          // mock cannot replay history and answers 400), lists afresh once it has been 10 s without one
          kubernetes.relay().cut();
          kubernetes.slice("api-x1", "api", "web", a.port(), "127.0.0.2", READY, "127.0.0.3", READY);
          Await.until("the change made while the watch was down applies", Duration.ofSeconds(30),
              () -> b.requests() > 100);

          kubernetes.relay().stop(); // the API server is unreachable: the last set keeps serving
          int bServed = b.requests();
          int aServed = a.requests();
          Await.until("both endpoints keep serving", Duration.ofSeconds(10),
              () -> a.requests() > aServed + 200 && b.requests() > bServed + 200);
          Await.until("the lost watch is counted", Duration.ofSeconds(10),
              () -> gateway.metric("keepgate_discovery_updates_total", "result=\"failed\"", "source=\"kubernetes\"") >= 1.0);

          kubernetes.slice("api-x1", "api", "web", a.port(), "127.0.0.2", READY, "127.0.0.4", READY);
          kubernetes.relay().start(); // back: the change made while it was away applies
          Await.until("the change made while unreachable applies", Duration.ofSeconds(45),
              () -> c.requests() > 100 && b.open() == 0);
        } finally {
          List<KeepAliveClients.Result> results = clients.stop(Duration.ofSeconds(20));
          assertEquals(List.of(), KeepAliveClients.failures(results),
              "no client saw an error");
        }
      }
    }
  }

  @Test
  void withNoReadyEndpointTheServingOnesTakeTheTrafficAndWithNoneServingTheLastSetStays() throws Exception {
    try (TestKubernetes kubernetes = new TestKubernetes();
        CountingBackend a = CountingBackend.startOn("127.0.0.2");
        CountingBackend b = CountingBackend.startOn("127.0.0.3", a.port())) {
      kubernetes.slice("api-x1", "api", "http", a.port(), "127.0.0.2", READY, "127.0.0.3", READY);
      try (GatewayHarness gateway = GatewayHarness.start(kubernetes.gatewayFollowing("api", "http"))) {
        Await.until("both endpoints are found", Duration.ofSeconds(10), () -> changes(gateway) >= 1.0);
        KeepAliveClients clients = KeepAliveClients.start(gateway.port(), 4, i -> "/item/" + i);
        try {
          Await.until("both serve", Duration.ofSeconds(10), () -> a.requests() > 100 && b.requests() > 100);
          // no pod ready any more (a Deployment scaled to zero, a node drained): as kube-proxy does, the
          // one still serving through its grace period keeps the traffic; the one not serving drains
          kubernetes.slice("api-x1", "api", "http", a.port(), "127.0.0.2", TERMINATING, "127.0.0.3", NOT_READY);
          Await.until("the pod that serves no more drains", Duration.ofSeconds(10),
              () -> changes(gateway) >= 2.0 && b.open() == 0);
          int aServed = a.requests();
          int bServed = b.requests();
          Await.until("the serving terminating pod keeps the traffic", Duration.ofSeconds(10),
              () -> a.requests() > aServed + 200);
          assertEquals(bServed, b.requests(), "the pod neither ready nor serving gets nothing new");

          kubernetes.deleteSlice("api-x1"); // nothing serves: the last set stays rather than 503 for all
          Await.until("the empty set is counted", Duration.ofSeconds(10),
              () -> gateway.metric("keepgate_discovery_updates_total", "result=\"empty\"", "source=\"kubernetes\"") >= 1.0);
          int afterDelete = a.requests();
          Await.until("and the last endpoint still serves", Duration.ofSeconds(10), () -> a.requests() > afterDelete + 200);
        } finally {
          assertEquals(List.of(), KeepAliveClients.failures(clients.stop(Duration.ofSeconds(20))), "no client saw an error");
        }
      }
    }
  }

  @Test
  void aGatewayStartedBeforeTheApiServerAnswersFindsTheEndpointsOnceItDoes() throws Exception {
    try (TestKubernetes kubernetes = new TestKubernetes(); CountingBackend a = CountingBackend.startOn("127.0.0.2")) {
      kubernetes.slice("api-x1", "api", "http", a.port(), "127.0.0.2", READY);
      kubernetes.relay().stop();
      try (GatewayHarness gateway = GatewayHarness.start(kubernetes.gatewayFollowing("api", a.port()))) {
        Await.until("the failed list is counted", Duration.ofSeconds(10),
            () -> gateway.metric("keepgate_discovery_updates_total", "result=\"failed\"", "source=\"kubernetes\"") >= 1.0);
        try (RawClient client = new RawClient(gateway.port())) {
          client.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n");
          assertEquals(503, client.readResponse().status(), "no endpoint known yet");
        }
        HttpResponse<String> ready = gateway.admin("/health/ready");
        assertEquals(503, ready.statusCode(), "readiness waits for the endpoints (10 s at most)");
        assertEquals("not ready: discovering [up]", ready.body().strip());
        kubernetes.relay().start();
        Await.until("found once the API server answers (port by number)", Duration.ofSeconds(40),
            () -> changes(gateway) >= 1.0);
        assertEquals(200, gateway.admin("/health/ready").statusCode());
        try (RawClient client = new RawClient(gateway.port())) {
          client.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n");
          assertEquals(200, client.readResponse().status());
        }
        assertTrue(a.requests() >= 1);
        assertEquals("ready", gateway.pool(a.endpoint()).getString("state"));
      }
    }
  }
}
