package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.Await;
import io.keepgate.testing.CountingBackend;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.RawClient;
import io.vertx.core.json.JsonObject;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The claim under test: consecutive failures eject an endpoint (its idle connections closed, no
 * more traffic), active probes readmit it after consecutive successes, and with every endpoint
 * ejected a client gets 503 at once without a connect attempt. All visible in
 * {@code keepgate_upstream_healthy} and {@code /admin/pools}.
 */
class HealthIT {

  private static RawClient.Response get(GatewayHarness gateway, String path) throws Exception {
    try (RawClient client = new RawClient(gateway.port())) {
      client.send("GET " + path + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
      return client.readResponse();
    }
  }

  private static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  @Test
  void consecutiveConnectFailuresEjectTheEndpointAndThen503ComesWithoutAConnectAttempt() throws Exception {
    String dead = "127.0.0.1:" + freePort();
    JsonObject config = GatewayHarness.config(dead);
    GatewayHarness.upstream(config).put("healthCheck", new JsonObject().put("unhealthyThreshold", 3)
        .put("intervalMs", 60000).put("timeoutMs", 1000));
    try (GatewayHarness gateway = GatewayHarness.start(config)) {
      for (int i = 0; i < 3; i++) {
        assertEquals(502, get(gateway, "/").status(), "connect failure " + (i + 1));
      }
      Await.equal("ejected after 3 consecutive failures", Duration.ofSeconds(5), false,
          () -> gateway.pool(dead).getBoolean("healthy"));
      long start = System.nanoTime();
      RawClient.Response response = get(gateway, "/");
      assertEquals(503, response.status());
      assertEquals("no healthy endpoint in upstream up\n", response.body());
      assertTrue(System.nanoTime() - start < Duration.ofMillis(500).toNanos(), "503 at once");
      assertEquals(3, gateway.pool(dead).getInteger("connectFailures"), "no connect attempt after ejection");
      assertEquals(0.0, gateway.metric("keepgate_upstream_healthy", "endpoint=\"" + dead + "\""));
    }
  }

  @Test
  void failingProbesEjectAndCloseIdleConnectionsThenPassingProbesReadmit() throws Exception {
    AtomicBoolean healthy = new AtomicBoolean(true);
    try (CountingBackend backend = CountingBackend.start()) {
      backend.handler(request -> {
        if (request.path().equals("/healthz")) {
          request.response().setStatusCode(healthy.get() ? 200 : 500).end();
        } else {
          request.response().end("ok");
        }
      });
      JsonObject config = GatewayHarness.config(backend.endpoint());
      GatewayHarness.upstream(config).put("healthCheck", new JsonObject().put("path", "/healthz")
          .put("intervalMs", 100).put("timeoutMs", 100).put("unhealthyThreshold", 2).put("healthyThreshold", 3));
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        assertEquals(200, get(gateway, "/work").status());
        assertEquals(1, gateway.pool(backend.endpoint()).getInteger("idle"));

        healthy.set(false);
        Await.equal("ejected after failing probes", Duration.ofSeconds(5), false,
            () -> gateway.pool(backend.endpoint()).getBoolean("healthy"));
        JsonObject pool = gateway.pool(backend.endpoint());
        assertEquals(0, pool.getInteger("idle"), "idle connections of an ejected endpoint are closed");
        assertEquals(1, pool.getJsonObject("closed").getInteger("ejected"));
        assertEquals(503, get(gateway, "/work").status());

        healthy.set(true);
        Await.equal("readmitted after passing probes", Duration.ofSeconds(5), true,
            () -> gateway.pool(backend.endpoint()).getBoolean("healthy"));
        assertEquals(200, get(gateway, "/work").status());
        assertEquals(1.0, gateway.metric("keepgate_upstream_healthy", "endpoint=\"" + backend.endpoint() + "\""));
      }
    }
  }

  @Test
  void anEjectedEndpointWithoutAProbePathIsReadmittedOnceItAcceptsConnectionsAgain() throws Exception {
    int port = freePort();
    String endpoint = "127.0.0.1:" + port;
    try (CountingBackend other = CountingBackend.start()) {
      JsonObject config = GatewayHarness.config(endpoint, other.endpoint());
      GatewayHarness.upstream(config).put("healthCheck", new JsonObject().put("intervalMs", 100)
          .put("timeoutMs", 100).put("unhealthyThreshold", 1).put("healthyThreshold", 2));
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        for (int i = 0; i < 4; i++) {
          assertEquals(200, get(gateway, "/").status(), "a failed connect moves the request to the live endpoint");
        }
        assertEquals(4, other.requests(), "all four answered there");
        assertEquals(1, gateway.pool(endpoint).getInteger("connectFailures"), "one connect failure ejects the dead endpoint");
        assertEquals(1, gateway.pool(endpoint).getInteger("retries"), "the request it failed went elsewhere");
        assertEquals(false, gateway.pool(endpoint).getBoolean("healthy"));

        try (CountingBackend revived = CountingBackend.startOnPort(port)) {
          Await.equal("readmitted by TCP probes", Duration.ofSeconds(5), true,
              () -> gateway.pool(endpoint).getBoolean("healthy"));
          for (int i = 0; i < 4; i++) {
            assertEquals(200, get(gateway, "/").status());
          }
          assertTrue(revived.requests() >= 1, "round-robin sends traffic to the readmitted endpoint again");
        }
      }
    }
  }

  @Test
  void clientsThatGiveUpNeverEjectAHealthyBackendNorOpenExtraConnections() throws Exception {
    try (CountingBackend backend = CountingBackend.start()) {
      backend.handler(request -> backend.vertx().setTimer(500, id -> request.response().end("late")));
      JsonObject config = GatewayHarness.config(backend.endpoint());
      config.getJsonObject("server").put("eventLoops", 1);
      GatewayHarness.upstream(config).put("healthCheck", new JsonObject().put("unhealthyThreshold", 2));
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        for (int i = 0; i < 5; i++) {
          int abandoned = i + 1;
          try (RawClient client = new RawClient(gateway.port())) {
            client.send("GET /slow HTTP/1.1\r\nHost: test\r\n\r\n");
            Await.equal("the request reached the backend", Duration.ofSeconds(5), abandoned, backend::requests);
          } // and the client leaves before the answer
          Await.equal("the abandoned request is finished as 499", Duration.ofSeconds(5), (double) abandoned,
              () -> gateway.metric("keepgate_requests_total", "code=\"499\""));
        }
        JsonObject pool = gateway.pool(backend.endpoint());
        assertEquals(true, pool.getBoolean("healthy"), "a client's abort is not a backend failure: " + pool);
        assertEquals(0, pool.getInteger("retries"), "nothing is retried for a client that left");
        assertEquals(5, backend.accepted(), "one upstream connection per abandoned exchange, none extra");
      }
    }
  }
}
