package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.Await;
import io.keepgate.testing.CountingBackend;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.RawClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The claim under test: when keepgate cannot get an answer from an upstream, the client gets the
 * status SPEC section 3 names (connect failure 502, pending queue full or pending timeout 503,
 * response timeout 504, no route 404) with a one-line plain-text body naming the reason, within
 * bounded time, and the failure is visible in {@code /metrics} and {@code /admin/pools}.
 */
class UpstreamErrorsIT {

  @Test
  void connectFailureGives502NamingTheConnectFailure() throws Exception {
    int deadPort;
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      deadPort = socket.getLocalPort(); // closed at once: nothing listens there
    }
    String ep = "127.0.0.1:" + deadPort;
    try (GatewayHarness gateway = GatewayHarness.start(GatewayHarness.config(ep))) {
      long start = System.nanoTime();
      RawClient.Response response = get(gateway, "/");
      long tookMs = msSince(start);

      assertEquals(502, response.status(), response.head());
      assertPlainTextReason(response, "connect to upstream failed");
      assertTrue(tookMs < 2000, "502 after " + tookMs + " ms: a refused connect fails fast");
      assertEquals(1.0, gateway.metric("keepgate_upstream_connect_failures_total", "endpoint=\"" + ep + "\""));
      assertEquals(1, gateway.pool(ep).getInteger("connectFailures"), "/admin/pools: " + gateway.pool(ep));
      assertEquals(0, gateway.pool(ep).getInteger("opened"));
      assertEquals(1.0, gateway.metric("keepgate_requests_total", "route=\"all\"", "code=\"502\""));
    }
  }

  @Test
  void backendThatNeverAnswersGives504AfterTheResponseTimeout() throws Exception {
    try (CountingBackend backend = CountingBackend.start()) {
      backend.handler(request -> { }); // reads the request, never answers
      JsonObject config = GatewayHarness.config(backend.endpoint());
      GatewayHarness.upstream(config).put("responseTimeoutMs", 500);
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        long start = System.nanoTime();
        RawClient.Response response = get(gateway, "/slow");
        long tookMs = msSince(start);

        assertEquals(504, response.status(), response.head());
        assertPlainTextReason(response, "upstream response timeout after 500 ms");
        assertTrue(tookMs >= 450, "504 after " + tookMs + " ms: not before responseTimeoutMs 500");
        assertTrue(tookMs < 1500, "504 after " + tookMs + " ms: within responseTimeoutMs + slack");
        assertEquals(1, backend.requests(), "the request reached the backend");
        String ep = backend.endpoint();
        // the connection's exchange is unfinished: it must not serve anyone else
        Await.equal("backend connections open", Duration.ofSeconds(2), 0, backend::open);
        Await.equal("closed{reason=error}", Duration.ofSeconds(2), 1.0, () -> gateway.closed(ep, "error"));
        assertEquals(0.0, gateway.closed(ep, "upstream_closed"), "keepgate closed it, not the backend: " + gateway.pool(ep));
        assertEquals(1.0, gateway.metric("keepgate_requests_total", "code=\"504\""));
      }
    }
  }

  @Test
  void requestsBeyondActiveAndPendingLimitsGetAFast503WhileTheOthersWait() throws Exception {
    CompletableFuture<Void> release = new CompletableFuture<>();
    try (CountingBackend backend = CountingBackend.start()) {
      backend.handler(request -> release.thenRun(() -> request.response().end("ok"))); // held until released
      JsonObject config = GatewayHarness.config(backend.endpoint());
      // one event loop: with several, a request starving on a loop without the connection would
      // (rightly) get it moved there, and the backend would see a second one
      config.getJsonObject("server").put("eventLoops", 1);
      GatewayHarness.pool(config).put("maxConnectionsPerEndpoint", 1).put("maxPendingRequests", 2)
          .put("pendingTimeoutMs", 10000);
      ExecutorService clients = Executors.newFixedThreadPool(4);
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        String ep = backend.endpoint();
        long start = System.nanoTime();
        List<Future<Timed>> calls = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
          String path = "/c" + i;
          calls.add(clients.submit(() -> timedGet(gateway, path, start)));
        }
        // 1 at the backend, 2 waiting: the fourth, whichever it is, is refused without waiting
        Await.until("one request refused", Duration.ofSeconds(3), () -> calls.stream().anyMatch(Future::isDone));
        Await.equal("requests held at the backend", Duration.ofSeconds(2), 1, backend::requests);
        Await.equal("/admin/pools pending", Duration.ofSeconds(2), 2, () -> gateway.pool(ep).getInteger("pending"));
        assertEquals(2.0, gateway.metric("keepgate_upstream_pending_requests", "endpoint=\"" + ep + "\""));
        assertEquals(1, calls.stream().filter(Future::isDone).count(), "exactly one request is answered early");
        Timed refused = calls.stream().filter(Future::isDone).findFirst().orElseThrow().get();
        assertEquals(503, refused.response.status(), refused.response.head());
        assertPlainTextReason(refused.response, "pending queue full (2 requests waiting)");
        assertTrue(refused.millis < 1000, "refused after " + refused.millis + " ms: it did not wait in the queue");

        release.complete(null);
        int ok = 0;
        for (Future<Timed> call : calls) {
          Timed t = call.get(10, TimeUnit.SECONDS);
          if (t.response.status() == 200) {
            assertEquals("ok", t.response.body());
            ok++;
          }
        }
        assertEquals(3, ok, "the active and the two pending requests complete once the backend answers");
        assertEquals(1, backend.accepted(), "all three went over the one allowed connection");
        assertEquals(1.0, gateway.metric("keepgate_requests_total", "code=\"503\""));
        assertEquals(0, gateway.pool(ep).getInteger("pending"));
      } finally {
        release.complete(null);
        clients.shutdownNow();
      }
    }
  }

  @Test
  void requestWaitingLongerThanPendingTimeoutGets503AndLeavesTheQueue() throws Exception {
    CompletableFuture<Void> release = new CompletableFuture<>();
    try (CountingBackend backend = CountingBackend.start()) {
      backend.handler(request -> release.thenRun(() -> request.response().end("ok")));
      JsonObject config = GatewayHarness.config(backend.endpoint());
      GatewayHarness.pool(config).put("maxConnectionsPerEndpoint", 1).put("pendingTimeoutMs", 300);
      ExecutorService clients = Executors.newFixedThreadPool(1);
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        String ep = backend.endpoint();
        Future<Timed> first = clients.submit(() -> timedGet(gateway, "/first", System.nanoTime()));
        Await.equal("first request held at the backend", Duration.ofSeconds(3), 1, backend::requests);

        long start = System.nanoTime();
        RawClient.Response second = get(gateway, "/second");
        long tookMs = msSince(start);

        assertEquals(503, second.status(), second.head());
        assertPlainTextReason(second, "no upstream connection within 300 ms");
        assertTrue(tookMs >= 280, "503 after " + tookMs + " ms: not before pendingTimeoutMs 300");
        assertTrue(tookMs < 1300, "503 after " + tookMs + " ms: within pendingTimeoutMs + slack");
        Await.equal("keepgate_upstream_pending_requests", Duration.ofSeconds(2), 0.0,
            () -> gateway.metric("keepgate_upstream_pending_requests", "endpoint=\"" + ep + "\""));
        assertEquals(0, gateway.pool(ep).getInteger("pending"));
        assertFalse(first.isDone(), "the first request is still held");

        release.complete(null);
        assertEquals(200, first.get(10, TimeUnit.SECONDS).response.status(), "the held request still completes");
        assertEquals(1, backend.requests(), "the timed-out request never reached the backend");
      } finally {
        release.complete(null);
        clients.shutdownNow();
      }
    }
  }

  @Test
  void requestMatchingNoRouteGets404AndNeverReachesTheBackend() throws Exception {
    try (CountingBackend backend = CountingBackend.start()) {
      JsonObject config = GatewayHarness.config(backend.endpoint());
      config.put("routes", new JsonArray().add(new JsonObject().put("name", "api")
          .put("match", new JsonObject().put("pathPrefix", "/api/")).put("upstream", "up")));
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        RawClient.Response miss = get(gateway, "/other/x");
        assertEquals(404, miss.status(), miss.head());
        assertPlainTextReason(miss, "no route");
        assertEquals(0, backend.requests(), "nothing reached the backend");

        assertEquals(200, get(gateway, "/api/x").status(), "the route itself works");
        assertEquals(1, backend.requests());
        assertEquals(1.0, gateway.metric("keepgate_requests_total", "route=\"no_route\"", "code=\"404\""));
      }
    }
  }

  /** One-line text/plain body that names the reason. */
  private static void assertPlainTextReason(RawClient.Response response, String reason) {
    String type = response.header("content-type");
    assertTrue(type != null && type.startsWith("text/plain"), "Content-Type: " + type);
    String body = response.body();
    assertTrue(body.endsWith("\n") && body.indexOf('\n') == body.length() - 1, "one line: [" + body + "]");
    assertTrue(body.contains(reason), "body [" + body.trim() + "] names [" + reason + "]");
  }

  private record Timed(RawClient.Response response, long millis) {}

  private static Timed timedGet(GatewayHarness gateway, String path, long start) throws Exception {
    RawClient.Response response = get(gateway, path);
    return new Timed(response, msSince(start));
  }

  private static RawClient.Response get(GatewayHarness gateway, String path) throws Exception {
    try (RawClient client = new RawClient(gateway.port())) {
      client.send("GET " + path + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
      return client.readResponse();
    }
  }

  private static long msSince(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
  }
}
