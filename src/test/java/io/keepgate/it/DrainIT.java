package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.Await;
import io.keepgate.testing.CountingBackend;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.GatewayProcess;
import io.keepgate.testing.KeepAliveClients;
import io.keepgate.testing.RawClient;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The claim under test (SPEC section 1): on SIGTERM (or SIGINT) the keepgate process turns its
 * readiness to 503, stops accepting connections, lets the requests in flight finish within
 * {@code server.drainTimeoutMs}, and exits 0; a request that outlasts the drain timeout does not
 * keep the process alive beyond it; busy keep-alive clients lose no request through it (each
 * response completed during the drain carries {@code Connection: close}); a keep-alive connection
 * idle for longer than the drain grace is closed at once, not when the drain ends. The gateway
 * runs as a child process from the packaged jar.
 */
class DrainIT {
  private static final int SLOW_BODY_BYTES = 100_000;
  private static final String SLOW_BODY = "s".repeat(SLOW_BODY_BYTES);
  /** ProxyLoop.DRAIN_GRACE: a connection idle for less when the drain begins gets this long for its next request. */
  private static final Duration DRAIN_GRACE = Duration.ofSeconds(1);

  /** A backend whose /slow answers after {@code delayMillis}; {@code answered} turns true as it does. */
  private static CountingBackend slowBackend(long delayMillis, AtomicBoolean answered) throws Exception {
    CountingBackend backend = CountingBackend.start();
    return backend.handler(request -> backend.vertx().setTimer(delayMillis, t -> {
      answered.set(true);
      request.response().putHeader("content-type", "text/plain").end(SLOW_BODY);
    }));
  }

  private static JsonObject config(CountingBackend backend, int drainTimeoutMs) {
    JsonObject config = GatewayHarness.config(backend.endpoint());
    config.getJsonObject("server").put("drainTimeoutMs", drainTimeoutMs);
    return config;
  }

  @Test
  void sigtermTurnsReadinessOffRefusesNewConnectionsLetsTheInFlightRequestFinishThenExitsZero() throws Exception {
    AtomicBoolean answered = new AtomicBoolean();
    try (CountingBackend backend = slowBackend(1500, answered);
        GatewayProcess gateway = GatewayProcess.start(config(backend, 5000).put("accessLog",
            new JsonObject().put("enabled", true)));
        RawClient client = new RawClient(gateway.proxyPort())) {
      client.timeout(20_000);
      client.send("GET /slow HTTP/1.1\r\nHost: test\r\n\r\n");
      Await.equal("the slow request reached the backend", Duration.ofSeconds(10), 1, backend::requests);

      long signalled = System.nanoTime();
      gateway.signal(GatewayProcess.Signal.TERM);

      // readiness: 503 while draining (the admin listener outlives the proxy listener)
      int ready = 200;
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (ready != 503 && gateway.isAlive() && System.nanoTime() < deadline) {
        ready = gateway.readyStatus();
      }
      assertEquals(503, ready, "GET /health/ready while draining\n" + gateway.output());

      Await.until("a new connection to the proxy port is refused", Duration.ofSeconds(10),
          () -> refused(gateway.proxyPort()));
      assertFalse(answered.get(), "the listener closed while the slow request was still in flight "
          + "(if this fails, the machine took over 1.5 s to react to SIGTERM)");
      assertTrue(gateway.isAlive(), "the process waits for its in-flight request");

      RawClient.Response response = client.readResponse();
      assertEquals(200, response.status(), response.head());
      assertEquals(SLOW_BODY_BYTES, response.body().length(), "the whole body arrived");
      assertEquals(SLOW_BODY, response.body());
      assertEquals("close", response.header("Connection"), "a response completed during the drain says it is the last");

      int exit = gateway.waitFor(Duration.ofSeconds(15));
      long stoppedAfterMillis = (System.nanoTime() - signalled) / 1_000_000;
      assertEquals(0, exit, gateway.output());
      assertTrue(stoppedAfterMillis < 5000, "exited " + stoppedAfterMillis + " ms after SIGTERM: once nothing is "
          + "in flight the drain does not wait out drainTimeoutMs 5000\n" + gateway.output());
      assertEquals(1, backend.requests(), "nothing else reached the backend");
      assertTrue(gateway.stdout().lines().anyMatch(line -> line.contains(" GET /slow route=all ")
          && line.contains(" status=200 bytes=" + SLOW_BODY_BYTES + " ")), "the access log line was written before the "
          + "exit\n" + gateway.output());
    }
  }

  @Test
  void aRequestOutlastingTheDrainTimeoutDoesNotKeepTheProcessAlive() throws Exception {
    AtomicBoolean answered = new AtomicBoolean();
    try (CountingBackend backend = slowBackend(10_000, answered);
        GatewayProcess gateway = GatewayProcess.start(config(backend, 1000));
        RawClient client = new RawClient(gateway.proxyPort())) {
      client.send("GET /slow HTTP/1.1\r\nHost: test\r\n\r\n");
      Await.equal("the slow request reached the backend", Duration.ofSeconds(10), 1, backend::requests);

      long signalled = System.nanoTime();
      gateway.signal(GatewayProcess.Signal.TERM);
      int exit = gateway.waitFor(Duration.ofSeconds(1 + 8));
      long stoppedAfterMillis = (System.nanoTime() - signalled) / 1_000_000;

      assertEquals(0, exit, gateway.output());
      assertTrue(stoppedAfterMillis < 1000 + 5000,
          "exited " + stoppedAfterMillis + " ms after SIGTERM (drainTimeoutMs 1000)\n" + gateway.output());
      assertFalse(answered.get(), "the backend had not answered yet: the request was cut off, not completed");
      client.timeout(5000);
      assertTrue(client.closedByServer(), "the cut-off client connection is closed, not left hanging");
    }
  }

  @Test
  void sigintStopsAnIdleGatewayWithExitZero() throws Exception {
    try (CountingBackend backend = CountingBackend.start();
        GatewayProcess gateway = GatewayProcess.start(config(backend, 5000))) {
      try (RawClient client = new RawClient(gateway.proxyPort())) {
        client.send("GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        assertEquals(200, client.readResponse().status());
      }
      long signalled = System.nanoTime();
      gateway.signal(GatewayProcess.Signal.INT);
      assertEquals(0, gateway.waitFor(Duration.ofSeconds(10)), gateway.output());
      long stoppedAfterMillis = (System.nanoTime() - signalled) / 1_000_000;
      assertTrue(stoppedAfterMillis < 5000, "with nothing in flight the drain does not wait out drainTimeoutMs: "
          + stoppedAfterMillis + " ms\n" + gateway.output());
    }
  }

  @Test
  void busyKeepAliveClientsLoseNoRequestThroughADrain() throws Exception {
    int clients = 16;
    try (CountingBackend backend = CountingBackend.start()) {
      backend.handler(request -> backend.vertx().setTimer(1 + request.path().length() % 5, t -> request.response().end("ok")));
      try (GatewayProcess gateway = GatewayProcess.start(config(backend, 10_000));
          KeepAliveClients load = KeepAliveClients.start(gateway.proxyPort(), clients, i -> "/c" + "x".repeat(i))) {
        Await.until("every client is busy", Duration.ofSeconds(30), () -> load.answered() >= 50 * clients);
        gateway.signal(GatewayProcess.Signal.TERM);
        assertEquals(0, gateway.waitFor(Duration.ofSeconds(20)), gateway.output());

        int answered = 0;
        for (KeepAliveClients.Result client : load.awaitRefused(Duration.ofSeconds(30))) {
          assertEquals(List.of(), client.failures(), "every request sent was answered");
          assertTrue(client.toldToClose(), "the client's last response said Connection: close");
          answered += client.answered();
        }
        assertEquals(backend.requests(), answered, "the backend answered exactly what the clients received");
      }
    }
  }

  @Test
  void aKeepAliveConnectionIdleLongerThanTheGraceIsClosedAtOnceWhileASlowRequestKeepsTheDrainOpen()
      throws Exception {
    AtomicReference<HttpServerRequest> held = new AtomicReference<>();
    try (CountingBackend backend = CountingBackend.start()) {
      backend.handler(request -> {
        if (request.path().equals("/slow")) {
          held.set(request); // answered when the test says so: the drain stays open until then
        } else {
          request.response().end("ok");
        }
      });
      JsonObject config = config(backend, 30_000);
      config.getJsonObject("server").put("idleTimeoutMs", 60_000); // only the drain may close the idle one
      try (GatewayProcess gateway = GatewayProcess.start(config);
          RawClient idle = new RawClient(gateway.proxyPort());
          RawClient slow = new RawClient(gateway.proxyPort())) {
        idle.send("GET /first HTTP/1.1\r\nHost: test\r\n\r\n");
        RawClient.Response first = idle.readResponse();
        assertEquals(200, first.status(), first.head());
        assertEquals(null, first.header("Connection"), "kept alive before the drain");
        long idleSince = System.nanoTime();

        slow.timeout(20_000);
        slow.send("GET /slow HTTP/1.1\r\nHost: test\r\n\r\n");
        Await.until("the slow request reached the backend", Duration.ofSeconds(10), () -> held.get() != null);
        // the behaviour is about time: a connection idle for less than the grace would get it
        Duration idleFor = DRAIN_GRACE.plusMillis(500);
        Await.until("the first connection idle for " + idleFor.toMillis() + " ms", Duration.ofSeconds(10),
            () -> System.nanoTime() - idleSince > idleFor.toNanos());

        gateway.signal(GatewayProcess.Signal.TERM);
        idle.timeout(5000); // the bound: at once, not at the end of the drain (30 s, or the slow answer)
        String received;
        try {
          received = idle.readToEnd();
        } catch (SocketTimeoutException e) {
          throw new AssertionError("the idle connection was still open 5 s after SIGTERM\n" + gateway.output());
        }
        assertEquals("", received, "the idle connection is closed with no byte of a response");
        assertTrue(gateway.isAlive(), "closed by the drain, which the slow request still holds open\n"
            + gateway.output());

        held.get().response().end("slow");
        RawClient.Response answer = slow.readResponse();
        assertEquals(200, answer.status(), answer.head());
        assertEquals("slow", answer.body());
        assertEquals("close", answer.header("Connection"), "a response completed during the drain says it is the last");
        assertEquals(0, gateway.waitFor(Duration.ofSeconds(15)), gateway.output());
        assertEquals(2, backend.requests(), "nothing else reached the backend");
      }
    }
  }

  /** Whether a TCP connect to 127.0.0.1:port is refused (nothing listening). */
  private static boolean refused(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      return false;
    } catch (ConnectException e) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
