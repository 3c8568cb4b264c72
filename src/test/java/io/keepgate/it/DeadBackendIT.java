package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.Await;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.RawClient;
import io.keepgate.testing.TestNetwork;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The claim under test: a backend whose host vanishes without a FIN or RST (power loss, partition)
 * is found by TCP keepalive on an idle pooled connection within idle + interval x probes (+ 2 s):
 * the connection is evicted with reason {@code keepalive_dead} and the endpoint counts a failure;
 * and with a request in flight, TCP_USER_TIMEOUT fails it with 502 in bounded time rather than
 * after the kernel's 15-minute retransmission limit. The backend lives in a network namespace the
 * test creates and blackholes with iptables.
 */
class DeadBackendIT {
  private static final int PORT = 8080;
  private static final int IDLE_SECONDS = 2;
  private static final int INTERVAL_SECONDS = 1;
  private static final int PROBES = 2;
  private static final Duration DETECTION = Duration.ofSeconds(IDLE_SECONDS + (long) INTERVAL_SECONDS * PROBES);
  private static final Duration SLACK = Duration.ofSeconds(2);

  private static JsonObject config(String endpoint) {
    JsonObject config = GatewayHarness.config(endpoint);
    // one event loop: the requests must find the one pooled connection, which lives on one loop
    config.getJsonObject("server").put("eventLoops", 1);
    JsonObject upstream = GatewayHarness.upstream(config);
    upstream.put("tcpKeepAlive", new JsonObject().put("idleSeconds", IDLE_SECONDS)
        .put("intervalSeconds", INTERVAL_SECONDS).put("probes", PROBES));
    upstream.put("responseTimeoutMs", 120_000); // far beyond the bound: only TCP may end the wait
    upstream.put("healthCheck", new JsonObject().put("unhealthyThreshold", 1).put("intervalMs", 60_000));
    GatewayHarness.pool(config).put("idleTimeoutMs", 300_000).put("connectTimeoutMs", 1000);
    return config;
  }

  private static RawClient.Response get(GatewayHarness gateway, String path) throws Exception {
    try (RawClient client = new RawClient(gateway.port())) {
      client.timeout(60_000);
      client.send("GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n");
      return client.readResponse();
    }
  }

  @Test
  void anIdlePooledConnectionToAVanishedHostIsEvictedAsKeepaliveDead() throws Exception {
    try (TestNetwork network = TestNetwork.create()) {
      network.startBackend(PORT);
      String endpoint = network.peerAddress() + ":" + PORT;
      try (GatewayHarness gateway = GatewayHarness.start(config(endpoint))) {
        assertEquals(200, get(gateway, "/").status());
        assertEquals(1, gateway.pool(endpoint).getInteger("idle"), "one pooled keep-alive connection");

        network.blackhole();
        long blackholedAt = System.nanoTime();
        Await.equal("evicted with reason keepalive_dead", DETECTION.plus(SLACK).plusSeconds(1), 1.0,
            () -> gateway.closed(endpoint, "keepalive_dead"));
        Duration detectedAfter = Duration.ofNanos(System.nanoTime() - blackholedAt);
        assertTrue(detectedAfter.compareTo(DETECTION.plus(SLACK)) <= 0,
            "detected after " + detectedAfter.toMillis() + " ms, bound " + DETECTION.plus(SLACK).toMillis());
        assertTrue(detectedAfter.compareTo(Duration.ofSeconds(IDLE_SECONDS - 1)) >= 0,
            "not before the first probe was due: " + detectedAfter.toMillis() + " ms");

        JsonObject pool = gateway.pool(endpoint);
        assertEquals(0, pool.getInteger("idle"), "the dead connection left the pool");
        assertEquals(false, pool.getBoolean("healthy"), "the keepalive death counted as a failure (threshold 1)");
        RawClient.Response next = get(gateway, "/");
        assertEquals(503, next.status(), "no request is sent on the dead connection: " + next.body());
      }
    }
  }

  @Test
  void aRequestSentIntoAVanishedHostFailsWith502InBoundedTime() throws Exception {
    try (TestNetwork network = TestNetwork.create()) {
      network.startBackend(PORT);
      String endpoint = network.peerAddress() + ":" + PORT;
      JsonObject config = config(endpoint);
      GatewayHarness.upstream(config).getJsonObject("healthCheck").put("unhealthyThreshold", 5);
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        assertEquals(200, get(gateway, "/").status());
        network.blackhole();

        // The request goes out on the pooled connection and is never acknowledged: TCP_USER_TIMEOUT
        // (idle + interval x probes) fails it; the retry's connect then times out (1 s).
        long start = System.nanoTime();
        RawClient.Response response = get(gateway, "/");
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertEquals(502, response.status(), response.body());
        Duration bound = DETECTION.plusSeconds(1).plus(SLACK);
        assertTrue(took.compareTo(bound) <= 0, "502 after " + took.toMillis() + " ms, bound " + bound.toMillis());
        if (gateway.gateway().vertx().isNativeTransportEnabled()) {
          assertEquals(1.0, gateway.closed(endpoint, "keepalive_dead"), "ETIMEDOUT from TCP_USER_TIMEOUT: " + gateway.pool(endpoint));
        }
      }
    }
  }

  @Test
  void aConnectToAVanishedHostTimesOutWith502AfterConnectTimeout() throws Exception {
    try (TestNetwork network = TestNetwork.create()) {
      network.startBackend(PORT);
      network.blackhole();
      String endpoint = network.peerAddress() + ":" + PORT;
      try (GatewayHarness gateway = GatewayHarness.start(config(endpoint))) {
        long start = System.nanoTime();
        RawClient.Response response = get(gateway, "/");
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertEquals(502, response.status());
        assertTrue(response.body().startsWith("connect to upstream failed"), response.body());
        assertTrue(took.compareTo(Duration.ofMillis(900)) >= 0 && took.compareTo(Duration.ofSeconds(3)) <= 0,
            "502 after connectTimeoutMs (1 s): took " + took.toMillis() + " ms");
        assertEquals(1, gateway.pool(endpoint).getInteger("connectFailures"));
      }
    }
  }
}
