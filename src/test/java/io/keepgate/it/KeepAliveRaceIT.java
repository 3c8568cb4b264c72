package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.NodeBackend;
import io.keepgate.testing.RawClient;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The claim under test: when a backend closes an idle connection just as keepgate reuses it (the
 * keep-alive race), the client never sees it: an idempotent bodyless request is retried once on
 * another connection; a request whose body was sent is never replayed (502). And a backend that
 * announces its keep-alive timeout never closes a connection under keepgate: keepgate closes first.
 */
class KeepAliveRaceIT {

  /**
   * A raw backend that answers the first request of each connection and closes the connection,
   * without a byte, on the second: the race, made certain.
   */
  private static final class ClosingOnReuseBackend implements AutoCloseable {
    final Vertx vertx = Vertx.vertx();
    final List<String> requestLines = new CopyOnWriteArrayList<>();
    final AtomicInteger connections = new AtomicInteger();
    final NetServer server;

    ClosingOnReuseBackend() throws Exception {
      server = vertx.createNetServer().connectHandler(socket -> {
        connections.incrementAndGet();
        AtomicInteger heads = new AtomicInteger();
        socket.handler(data -> {
          String text = data.toString();
          for (String line : text.split("\r\n")) {
            if (line.matches("^[A-Z]+ /.* HTTP/1\\.1$")) {
              requestLines.add(line);
              if (heads.incrementAndGet() == 1) {
                socket.write(Buffer.buffer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
              } else {
                socket.close();
              }
            }
          }
        });
      }).listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    }

    String endpoint() {
      return "127.0.0.1:" + server.actualPort();
    }

    @Override
    public void close() throws Exception {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  private static JsonObject singleLoop(String endpoint) {
    JsonObject config = GatewayHarness.config(endpoint);
    config.getJsonObject("server").put("eventLoops", 1);
    GatewayHarness.pool(config).put("maxConnectionsPerEndpoint", 1);
    return config;
  }

  @Test
  void anIdempotentRequestOnAConnectionTheBackendClosedIsRetriedOnce() throws Exception {
    try (ClosingOnReuseBackend backend = new ClosingOnReuseBackend();
         GatewayHarness gateway = GatewayHarness.start(singleLoop(backend.endpoint()));
         RawClient client = new RawClient(gateway.port())) {
      client.send("GET /first HTTP/1.1\r\nHost: test\r\n\r\n");
      assertEquals(200, client.readResponse().status());
      client.send("GET /second HTTP/1.1\r\nHost: test\r\n\r\n");
      RawClient.Response second = client.readResponse();
      assertEquals(200, second.status(), "the client never sees the race: " + second.body());
      assertEquals(List.of("GET /first HTTP/1.1", "GET /second HTTP/1.1", "GET /second HTTP/1.1"),
          backend.requestLines, "sent once on the reused connection, once more on a new one");
      assertEquals(1, gateway.pool(backend.endpoint()).getInteger("retries"));
      assertEquals(1.0, gateway.closed(backend.endpoint(), "upstream_closed"));
    }
  }

  @Test
  void aPostWhoseBodyWasSentIsNeverReplayed() throws Exception {
    try (ClosingOnReuseBackend backend = new ClosingOnReuseBackend();
         GatewayHarness gateway = GatewayHarness.start(singleLoop(backend.endpoint()));
         RawClient client = new RawClient(gateway.port())) {
      client.send("GET /first HTTP/1.1\r\nHost: test\r\n\r\n");
      assertEquals(200, client.readResponse().status());
      client.send("POST /order HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello");
      RawClient.Response response = client.readResponse();
      assertEquals(502, response.status());
      assertTrue(response.body().startsWith("upstream connection failed"), response.body());
      assertEquals(1, backend.requestLines.stream().filter(l -> l.startsWith("POST")).count(),
          "the POST reached the backend once and was not replayed");
      assertEquals(0, gateway.pool(backend.endpoint()).getInteger("retries"));
    }
  }

  /**
   * Node.js announces {@code Keep-Alive: timeout=2} and closes an idle connection 2 s after its
   * last response. keepgate closes it first, at 1.5 s (a quarter of the timeout, at least 250 ms,
   * earlier), so requests spaced on both sides of that deadline never meet Node's close: no error,
   * no retry, and every close is counted as keepgate's own idle timeout.
   */
  @Test
  void againstNodesAnnouncedKeepAliveTimeoutEveryCloseIsKeepgatesOwnAndNothingFails() throws Exception {
    try (NodeBackend node = NodeBackend.start(2000);
         GatewayHarness gateway = GatewayHarness.start(singleLoop(node.endpoint()))) {
      long[] gapsMillis = {1300, 1700, 1400, 2000, 1450, 2200, 1550, 1900};
      int failed = 0;
      for (long gap : gapsMillis) {
        failed += getOk(gateway) ? 0 : 1;
        Thread.sleep(gap); // pacing the client around the deadline, not awaiting a condition
      }
      failed += getOk(gateway) ? 0 : 1;
      JsonObject pool = gateway.pool(node.endpoint());
      assertEquals(0, failed, "no client-visible error: " + pool);
      assertEquals(0, pool.getInteger("retries"), "never a request into Node's close: " + pool);
      JsonObject closed = pool.getJsonObject("closed");
      assertEquals(0, closed.getInteger("error"), "no close is counted as an error: " + pool);
      assertEquals(0, closed.getInteger("upstream_closed"), "Node never closed first: " + pool);
      assertTrue(closed.getInteger("idle_timeout") >= 3, "keepgate retired idle connections ahead of Node: " + pool);
      assertEquals(pool.getInteger("opened") - pool.getInteger("idle") - pool.getInteger("active"),
          closed.getInteger("idle_timeout"), "every connection that closed closed at keepgate's idle deadline: " + pool);
    }
  }

  private static boolean getOk(GatewayHarness gateway) throws Exception {
    try (RawClient client = new RawClient(gateway.port())) {
      client.send("GET /tick HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
      RawClient.Response response = client.readResponse();
      return response.status() == 200 && response.body().equals("node ok");
    }
  }
}
