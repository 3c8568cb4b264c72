package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.CountingBackend;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.RawClient;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The claim under test: when a backend closes an idle connection just as keepgate reuses it (the
 * keep-alive race), the client never sees it: an idempotent bodyless request is retried once on
 * another connection; a request whose body was sent is never replayed (502). And with a backend
 * whose keep-alive timeout is 1 s and requests about 1 s apart for 30 s, no client sees an error.
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

  @Test
  void requestsSpacedAroundTheBackendsKeepAliveTimeoutNeverFail() throws Exception {
    HttpServerOptions oneSecondKeepAlive = new HttpServerOptions().setIdleTimeout(1).setIdleTimeoutUnit(TimeUnit.SECONDS);
    try (CountingBackend backend = CountingBackend.start(oneSecondKeepAlive);
         GatewayHarness gateway = GatewayHarness.start(GatewayHarness.config(backend.endpoint()))) {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      int sent = 0;
      int failed = 0;
      while (System.nanoTime() < end) {
        try (RawClient client = new RawClient(gateway.port())) {
          client.send("GET /tick HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
          RawClient.Response response = client.readResponse();
          sent++;
          failed += response.status() == 200 ? 0 : 1;
        }
        Thread.sleep(950 + ThreadLocalRandom.current().nextInt(100)); // pacing the client, not awaiting a condition
      }
      JsonObject pool = gateway.pool(backend.endpoint());
      System.out.printf("keep-alive race: %d requests, %d failed, %d retried, %d upstream connections,"
          + " closed %s%n", sent, failed, pool.getInteger("retries"), pool.getInteger("opened"), pool.getJsonObject("closed"));
      assertTrue(sent >= 25, "about one request a second for 30 s: " + sent);
      assertEquals(0, failed, "no client-visible error");
    }
  }
}
