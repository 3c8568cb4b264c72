package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.Await;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.GatewayProcess;
import io.keepgate.testing.RawClient;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The claim under test, across two gateway processes in one cluster: a backend that closes
 * connections idle for 3 s and never says so makes a pool configured at 30 s race its closes; node
 * A learns the backend's timeout from three races (each retried, or a 502 where the request may not
 * go twice), then races no more; node B applies what A learned, through the cluster, without seeing
 * a close itself, and never races at all.
 */
class LearnedKeepAliveIT {
  private static final long BACKEND_IDLE_MILLIS = 3000;
  /** Requests are spaced past the backend's timeout: every reuse of an idle connection meets its close. */
  private static final long SPACING_MILLIS = 3500;

  private final List<GatewayProcess> nodes = new ArrayList<>();
  private IdleClosingBackend backend;

  /**
   * A backend with a 3 s keep-alive timeout that it enforces when the next request comes: a request
   * on a connection idle for 3 s or more is dropped with the connection, unanswered, as when the
   * backend's close crosses the request on the wire (the keep-alive race, made certain). It answers
   * other requests with 200 and announces no {@code Keep-Alive: timeout}.
   */
  private static final class IdleClosingBackend implements AutoCloseable {
    final Vertx vertx = Vertx.vertx();
    final AtomicInteger answered = new AtomicInteger();
    final AtomicInteger dropped = new AtomicInteger();
    final NetServer server;

    IdleClosingBackend() throws Exception {
      server = vertx.createNetServer().connectHandler(socket -> {
        long[] lastActivity = {System.nanoTime()};
        socket.handler(data -> {
          if (!data.toString().contains("\r\n\r\n")) {
            return; // the gateway writes each request head whole; no body here
          }
          if (System.nanoTime() - lastActivity[0] >= TimeUnit.MILLISECONDS.toNanos(BACKEND_IDLE_MILLIS)) {
            dropped.incrementAndGet();
            socket.close();
            return;
          }
          answered.incrementAndGet();
          socket.write(Buffer.buffer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
          lastActivity[0] = System.nanoTime();
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

  @AfterEach
  void stop() throws Exception {
    nodes.forEach(GatewayProcess::close);
    if (backend != null) {
      backend.close();
    }
  }

  @Test
  void nodeALearnsTheBackendsTimeoutFromItsClosesAndNodeBAppliesItWithoutSeeingOne() throws Exception {
    backend = new IdleClosingBackend();
    startTwoNodes();
    GatewayProcess a = nodes.get(0);
    GatewayProcess b = nodes.get(1);

    try (RawClient client = new RawClient(a.host(), a.proxyPort())) {
      client.timeout(10_000);
      assertEquals(200, get(client), "opens the pooled connection");
      assertEquals(200, spacedGet(client), "race 1: retried on a new connection");
      assertEquals(200, spacedGet(client), "race 2: retried");
      assertEquals(502, spacedPost(client), "race 3: a POST without a body may not go twice");
    }
    assertEquals(3, backend.dropped.get(), "three requests met the backend's close");
    JsonObject learned = keepAlive(a);
    assertEquals("learned", learned.getString("source"));
    long backendTimeout = learned.getLong("backendTimeoutMs");
    assertTrue(backendTimeout >= SPACING_MILLIS && backendTimeout < SPACING_MILLIS + 1000,
        "the idle age at which the backend closed: " + learned);
    assertEquals(backendTimeout - backendTimeout / 4, learned.getLong("idleTimeoutMs"), 1, "a quarter below it");
    assertEquals(3, learned.getJsonObject("backendCloses").getLong("reuse"));
    assertEquals(2, endpoint(a).getLong("retries"));
    System.out.printf("node A learned the backend's keep-alive timeout: %d ms; idle timeout now %d ms%n",
        backendTimeout, learned.getLong("idleTimeoutMs"));

    Await.equal("node B adopts the learned value through the cluster", Duration.ofSeconds(10), "cluster",
        () -> keepAlive(b).getString("source"));
    JsonObject adopted = keepAlive(b);
    assertEquals(learned.getLong("idleTimeoutMs"), adopted.getLong("idleTimeoutMs"));
    assertEquals(0, adopted.getJsonObject("backendCloses").getLong("idle") + adopted.getJsonObject("backendCloses").getLong("reuse"),
        "B saw no close of its own");
    assertEquals(learned.getLong("idleTimeoutMs") / 1000.0,
        b.metric("keepgate_upstream_idle_timeout_seconds", "upstream=\"up\""), 0.001);

    int droppedBefore = backend.dropped.get();
    List<CompletableFuture<List<Integer>>> rounds = nodes.stream() // both nodes at once
        .map(node -> CompletableFuture.supplyAsync(() -> sameTrafficAgain(node))).toList();
    for (CompletableFuture<List<Integer>> round : rounds) {
      assertEquals(List.of(200, 200, 200), round.get(30, TimeUnit.SECONDS),
          "the idle connection was closed first each time: a new one, no race, no 502 for the POST");
    }
    assertEquals(droppedBefore, backend.dropped.get(), "no request met the backend's close on either node");
    assertEquals(2, endpoint(a).getLong("retries"), "no retry on A since it learned");
    assertEquals(0, endpoint(b).getLong("retries"), "none on B ever");
    assertTrue(endpoint(b).getJsonObject("closed").getLong("idle_timeout") >= 2, "B closed its idle connections first");
  }

  private static List<Integer> sameTrafficAgain(GatewayProcess node) {
    try (RawClient client = new RawClient(node.host(), node.proxyPort())) {
      client.timeout(10_000);
      return List.of(get(client), spacedGet(client), spacedPost(client));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private void startTwoNodes() throws Exception {
    int[] ports = new int[2];
    for (int i = 0; i < ports.length; i++) {
      try (ServerSocket socket = new ServerSocket(0)) {
        ports[i] = socket.getLocalPort();
      }
    }
    String name = "learn-" + System.nanoTime();
    for (int port : ports) {
      JsonObject config = GatewayHarness.config(backend.endpoint());
      GatewayHarness.pool(config).put("idleTimeoutMs", 30_000);
      config.put("cluster", new JsonObject().put("enabled", true).put("name", name).put("host", "127.0.0.1")
          .put("port", port).put("members", new JsonArray().add("127.0.0.1:" + ports[0]).add("127.0.0.1:" + ports[1])));
      nodes.add(GatewayProcess.start(config, "-Xmx128m"));
    }
    Await.equal("two members", Duration.ofSeconds(30), 2, () -> ClusterProcessIT.members(nodes.get(0)));
  }

  private static int get(RawClient client) throws Exception {
    return client.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n").readResponse().status();
  }

  private static int spacedGet(RawClient client) throws Exception {
    pause();
    return get(client);
  }

  private static int spacedPost(RawClient client) throws Exception {
    pause();
    return client.send("POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\n\r\n").readResponse().status();
  }

  /** The traffic's shape, not a wait for a condition: the next request comes after the backend's timeout. */
  private static void pause() throws InterruptedException {
    Thread.sleep(SPACING_MILLIS);
  }

  private static JsonObject endpoint(GatewayProcess node) throws Exception {
    JsonObject endpoints = new JsonObject(node.admin("/admin/pools").body()).getJsonObject("upstreams")
        .getJsonObject("up").getJsonObject("endpoints");
    return endpoints.getJsonObject(endpoints.fieldNames().iterator().next());
  }

  private static JsonObject keepAlive(GatewayProcess node) {
    try {
      return endpoint(node).getJsonObject("keepAlive");
    } catch (Exception e) {
      return new JsonObject();
    }
  }
}
