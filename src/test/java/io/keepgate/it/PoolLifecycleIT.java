package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.Await;
import io.keepgate.testing.CountingBackend;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.KernelSockets;
import io.keepgate.testing.RawClient;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The claim under test: a pooled upstream connection leaves the pool exactly when SPEC section 3
 * says so, closed by keepgate and counted with the right reason in {@code /metrics} and
 * {@code /admin/pools}: after {@code idleTimeoutMs} idle, before the backend's announced
 * {@code Keep-Alive: timeout}, after {@code maxRequestsPerConnection} requests, after
 * {@code maxLifetimeMs}; and a pooled connection the backend closes is dropped at once. Connection
 * counts are taken at the backend; no request ever fails because a connection retired.
 */
class PoolLifecycleIT {

  @Test
  void idlePooledConnectionIsClosedByKeepgateAfterIdleTimeout() throws Exception {
    try (CountingBackend backend = CountingBackend.start()) { // the backend itself never closes idle connections
      JsonObject config = GatewayHarness.config(backend.endpoint());
      GatewayHarness.pool(config).put("idleTimeoutMs", 1000);
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        assertEquals(200, get(gateway, "/").status());
        long idleSince = System.nanoTime();
        assertEquals(1, backend.open(), "one pooled connection after the request");

        Await.equal("backend connections open", Duration.ofSeconds(3), 0, backend::open);
        long closedAfterMs = msSince(idleSince);

        assertTrue(closedAfterMs >= 900, "closed after " + closedAfterMs + " ms, not before idleTimeoutMs 1000");
        assertTrue(closedAfterMs <= 2000, "closed after " + closedAfterMs + " ms, within idleTimeoutMs + slack");
        String ep = backend.endpoint();
        Await.equal("closed{reason=idle_timeout} in /metrics", Duration.ofSeconds(1), 1.0,
            () -> gateway.closed(ep, "idle_timeout"));
        assertEquals(0.0, gateway.closed(ep, "upstream_closed"), "keepgate closed it, not the backend");
        JsonObject pool = gateway.pool(ep);
        assertEquals(1, pool.getJsonObject("closed").getInteger("idle_timeout"), "/admin/pools: " + pool);
        assertEquals(0, pool.getJsonObject("closed").getInteger("upstream_closed"), "/admin/pools: " + pool);
        assertEquals(0, pool.getInteger("idle"), "/admin/pools: " + pool);
        assertEquals(0.0, gateway.metric("keepgate_upstream_connections", "state=\"idle\""), "idle gauge");
        assertKeepgateClosedFirst(backend);
      }
    }
  }

  @Test
  void connectionIsClosedBeforeTheBackendsAnnouncedKeepAliveTimeoutPasses() throws Exception {
    // The backend announces 1 s and, more lenient than its word, would close only after 1.5 s idle.
    HttpServerOptions lenient = new HttpServerOptions().setIdleTimeout(1500).setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
    try (CountingBackend backend = CountingBackend.start(lenient)) {
      AtomicLong respondedAt = new AtomicLong();
      backend.handler(r -> {
        r.response().putHeader("Keep-Alive", "timeout=1").end("ok");
        respondedAt.set(System.nanoTime());
      });
      JsonObject config = GatewayHarness.config(backend.endpoint());
      GatewayHarness.pool(config).put("idleTimeoutMs", 30000);
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        RawClient.Response response = get(gateway, "/");
        assertEquals(200, response.status());
        assertEquals(null, response.header("keep-alive"), "Keep-Alive is hop-by-hop: not relayed to the client");

        Await.equal("backend connections open", Duration.ofMillis(1400), 0, backend::open);
        long closedAfterMs = msSince(respondedAt.get());

        assertTrue(closedAfterMs < 1000,
            "closed " + closedAfterMs + " ms after the response announcing Keep-Alive: timeout=1; must be < 1000");
        assertTrue(closedAfterMs >= 500, "closed after " + closedAfterMs + " ms: kept for most of the announced second");
        String ep = backend.endpoint();
        Await.equal("closed{reason=idle_timeout} in /metrics", Duration.ofSeconds(1), 1.0,
            () -> gateway.closed(ep, "idle_timeout"));
        assertEquals(0.0, gateway.closed(ep, "upstream_closed"), "keepgate closed it, not the backend");
        assertEquals(1, gateway.pool(ep).getJsonObject("closed").getInteger("idle_timeout"));
        assertKeepgateClosedFirst(backend);
      }
    }
  }

  @Test
  void connectionRetiresAfterMaxRequestsPerConnection() throws Exception {
    try (CountingBackend backend = CountingBackend.start()) {
      JsonObject config = GatewayHarness.config(backend.endpoint());
      config.getJsonObject("server").put("eventLoops", 1); // exact counts: release and next acquire on one loop
      GatewayHarness.pool(config).put("maxRequestsPerConnection", 5);
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        for (int i = 0; i < 20; i++) {
          assertEquals(200, get(gateway, "/r" + i).status(), "request " + i);
        }
        String ep = backend.endpoint();
        Await.equal("closed{reason=max_requests}", Duration.ofSeconds(2), 4.0, () -> gateway.closed(ep, "max_requests"));
        assertEquals(4, backend.accepted(), "20 requests, 5 per connection: 4 connections at the backend");
        assertEquals(4, backend.clientPorts().size(), "4 distinct keepgate-side ports");
        Await.equal("backend connections open", Duration.ofSeconds(2), 0, backend::open);
        JsonObject pool = gateway.pool(ep);
        assertEquals(4, pool.getJsonObject("closed").getInteger("max_requests"), "/admin/pools: " + pool);
        assertEquals(4, pool.getInteger("opened"), "/admin/pools: " + pool);
        assertEquals(20, pool.getInteger("requests"), "/admin/pools: " + pool);
        assertEquals(0, pool.getInteger("idle"), "the fifth request's connection does not go back: " + pool);
      }
    }
  }

  @Test
  void connectionUsedAcrossItsMaxLifetimeIsRetiredAndReplacedWithoutFailingARequest() throws Exception {
    try (CountingBackend backend = CountingBackend.start()) {
      JsonObject config = GatewayHarness.config(backend.endpoint());
      config.getJsonObject("server").put("eventLoops", 1);
      GatewayHarness.pool(config).put("maxLifetimeMs", 1000);
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        String ep = backend.endpoint();
        long start = System.nanoTime();
        List<Integer> statuses = new ArrayList<>();
        // keep the connection busy until keepgate retires it, then use the pool once more
        long deadline = start + TimeUnit.SECONDS.toNanos(5);
        while (backend.accepted() < 2 && System.nanoTime() < deadline) {
          statuses.add(get(gateway, "/").status());
        }
        long replacedAfterMs = msSince(start);
        statuses.add(get(gateway, "/").status());

        assertTrue(statuses.stream().allMatch(s -> s == 200), "every request got 200: " + statuses);
        assertEquals(2, backend.accepted(), "one retirement, one replacement connection");
        assertTrue(replacedAfterMs >= 900, "replaced after " + replacedAfterMs + " ms: maxLifetimeMs 1000 less 10 % jitter");
        assertTrue(replacedAfterMs < 2000, "replaced after " + replacedAfterMs + " ms");
        assertEquals(1.0, gateway.closed(ep, "max_lifetime"), "closed{reason=max_lifetime} in /metrics");
        assertEquals(0.0, gateway.closed(ep, "error") + gateway.closed(ep, "upstream_closed"), "no other closes");
        assertEquals(1, gateway.pool(ep).getJsonObject("closed").getInteger("max_lifetime"));
        Await.equal("backend connections open", Duration.ofSeconds(2), 1, backend::open);
      }
    }
  }

  @Test
  void idleConnectionPastItsMaxLifetimeIsRetiredWithoutARequest() throws Exception {
    try (CountingBackend backend = CountingBackend.start()) {
      JsonObject config = GatewayHarness.config(backend.endpoint());
      GatewayHarness.pool(config).put("maxLifetimeMs", 1000).put("idleTimeoutMs", 30000);
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        long start = System.nanoTime();
        assertEquals(200, get(gateway, "/").status());

        Await.equal("backend connections open", Duration.ofSeconds(3), 0, backend::open);
        long closedAfterMs = msSince(start);

        assertTrue(closedAfterMs >= 900, "closed after " + closedAfterMs + " ms, not before maxLifetimeMs less jitter");
        assertTrue(closedAfterMs <= 2000, "closed after " + closedAfterMs + " ms");
        String ep = backend.endpoint();
        Await.equal("closed{reason=max_lifetime} in /metrics", Duration.ofSeconds(1), 1.0,
            () -> gateway.closed(ep, "max_lifetime"));
        assertEquals(0.0, gateway.closed(ep, "idle_timeout"));
        assertEquals(200, get(gateway, "/").status(), "the pool opens a new connection");
        assertEquals(2, backend.accepted());
      }
    }
  }

  @Test
  void idlePooledConnectionClosedByTheBackendLeavesThePoolAtOnce() throws Exception {
    try (CountingBackend backend = CountingBackend.start()) {
      AtomicReference<HttpConnection> lastConnection = new AtomicReference<>();
      backend.handler(r -> {
        lastConnection.set(r.connection());
        r.response().end("ok");
      });
      JsonObject config = GatewayHarness.config(backend.endpoint());
      GatewayHarness.pool(config).put("idleTimeoutMs", 30000);
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        String ep = backend.endpoint();
        assertEquals(200, get(gateway, "/").status());
        Await.equal("idle gauge", Duration.ofSeconds(2), 1.0,
            () -> gateway.metric("keepgate_upstream_connections", "state=\"idle\""));

        long closedAt = System.nanoTime();
        lastConnection.get().close(); // the backend sends FIN on the idle pooled socket
        Await.equal("idle gauge", Duration.ofSeconds(2), 0.0,
            () -> gateway.metric("keepgate_upstream_connections", "state=\"idle\""));
        long droppedAfterMs = msSince(closedAt);

        assertTrue(droppedAfterMs < 1000, "dropped " + droppedAfterMs + " ms after the backend's close, with no request");
        assertEquals(1.0, gateway.closed(ep, "upstream_closed"), "closed{reason=upstream_closed} in /metrics");
        assertEquals(0.0, gateway.closed(ep, "idle_timeout"));
        JsonObject pool = gateway.pool(ep);
        assertEquals(0, pool.getInteger("idle"), "/admin/pools: " + pool);
        assertEquals(1, pool.getJsonObject("closed").getInteger("upstream_closed"), "/admin/pools: " + pool);
        assertEquals(1, backend.requests(), "no request was needed to notice");
        if (KernelSockets.installed()) { // the kernel's word: the side that closed first holds TIME_WAIT
          int keepgatePort = backend.clientPorts().iterator().next();
          Await.equal("the backend's end in TIME_WAIT", Duration.ofSeconds(2), 1,
              () -> KernelSockets.sockets("time-wait", backend.port(), keepgatePort).size());
          assertEquals(0, KernelSockets.sockets("time-wait", keepgatePort, backend.port()).size(),
              "keepgate's end is not in TIME_WAIT: the backend closed first");
        }

        assertEquals(200, get(gateway, "/").status(), "the next request gets a fresh connection");
        assertEquals(2, backend.accepted());
      }
    }
  }

  /**
   * The kernel's word on who closed: the side that closes first holds the socket in TIME_WAIT, so
   * keepgate's end of the one upstream connection (local port = the client port the backend saw)
   * must be the one in it.
   */
  private static void assertKeepgateClosedFirst(CountingBackend backend) {
    Assumptions.assumeTrue(KernelSockets.installed(), "iproute2's ss is not installed");
    int keepgatePort = backend.clientPorts().iterator().next();
    Await.equal("keepgate's end in TIME_WAIT (keepgate closed first)", Duration.ofSeconds(2), 1,
        () -> KernelSockets.sockets("time-wait", keepgatePort, backend.port()).size());
    assertEquals(0, KernelSockets.sockets("time-wait", backend.port(), keepgatePort).size(),
        "the backend's end is not in TIME_WAIT");
  }

  /** One GET on its own client connection. */
  static RawClient.Response get(GatewayHarness gateway, String path) throws Exception {
    try (RawClient client = new RawClient(gateway.port())) {
      client.send("GET " + path + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
      return client.readResponse();
    }
  }

  static long msSince(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
  }
}
