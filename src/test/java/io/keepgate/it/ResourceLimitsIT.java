package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.Await;
import io.keepgate.testing.CountingBackend;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.GatewayProcess;
import io.keepgate.testing.RawClient;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;

/**
 * The claim under test: what clients can make keepgate hold is bounded by its configuration, not
 * by the clients. Clients that never read a large response cost at most the response buffer and
 * one read each, lose their exchange after {@code server.sendTimeoutMs}, and never take the heap,
 * the admin listener or other clients down; connections beyond {@code server.maxConnections} or
 * the file descriptors' share get a fast 503; a flood of connections under a small file limit
 * leaves the admin listener answering, and so do busy clients, whose upstream connections count
 * against that share. Each gateway runs as a child process with a small heap;
 * the assertions are on memory and reachability, not timings.
 */
class ResourceLimitsIT {
  private static final long MIB = 1L << 20;
  private static final long BIG = 50 * MIB;
  private static final Buffer CHUNK = Buffer.buffer(new byte[64 * 1024]);
  /** ConnectionLimit's reserve under a 512-descriptor limit: max(64, 512 / 8). */
  private static final int RESERVED_FDS = 64;

  private static CountingBackend backend() throws Exception {
    // A fixed, small socket send buffer at the backend: left to autotuning, a thousand stalled
    // backend sockets queue 4 MiB each and exhaust the kernel's TCP memory (net.ipv4.tcp_mem),
    // after which the kernel drops packets on every socket of the machine, the admin probe's too.
    CountingBackend backend = CountingBackend.start(new HttpServerOptions().setSendBufferSize(64 * 1024));
    return backend.handler(request -> {
      if (request.path().equals("/big")) {
        pump(request.response().putHeader("content-length", Long.toString(BIG)), BIG);
      } else {
        request.response().end("ok");
      }
    });
  }

  private static void pump(HttpServerResponse response, long remaining) {
    while (remaining > 0 && !response.writeQueueFull()) {
      response.write(CHUNK);
      remaining -= CHUNK.length();
    }
    if (remaining <= 0) {
      response.end();
    } else {
      long left = remaining;
      response.drainHandler(v -> pump(response, left));
    }
  }

  @Test
  void aThousandClientsThatNeverReadCostTheirBufferAndLoseTheirExchangeAfterTheSendTimeout() throws Exception {
    int clients = 1000;
    int buffer = 32 * 1024;
    try (CountingBackend backend = backend()) {
      JsonObject config = GatewayHarness.config(backend.endpoint());
      // A fixed kernel send buffer per client socket too: on loopback (MSS 64 KiB) autotuning
      // gives each stalled client socket over a megabyte at once, and a thousand of them exhaust
      // the kernel's TCP memory; over Ethernet a stalled client's buffer stays small
      config.getJsonObject("server").put("responseBufferBytes", buffer).put("sendTimeoutMs", 4000)
          .put("socketSendBufferBytes", 64 * 1024);
      GatewayHarness.pool(config).put("maxConnectionsPerEndpoint", 2 * clients).put("maxPendingRequests", 2 * clients);
      try (GatewayProcess gateway = GatewayProcess.start(config, "-Xmx160m", "-XX:+ExitOnOutOfMemoryError",
          "-Dio.netty.leakDetection.level=disabled")) {
        List<Socket> stalled = new ArrayList<>();
        try {
          for (int i = 0; i < clients; i++) {
            Socket socket = new Socket();
            socket.setReceiveBufferSize(4096); // before connect: a small window, so the stall reaches keepgate soon
            socket.connect(new InetSocketAddress("127.0.0.1", gateway.proxyPort()), 5000);
            socket.getOutputStream().write("GET /big HTTP/1.1\r\nHost: test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            stalled.add(socket); // and never read
          }
          Await.equal("every stalled request reached the backend", Duration.ofSeconds(60), clients, backend::requests);
          Await.until("the stalled responses filled their buffers", Duration.ofSeconds(30),
              () -> gateway.metric("keepgate_direct_memory_used_bytes") > 0);

          double heap = gateway.metric("jvm_memory_used_bytes", "area=\"heap\"");
          double direct = gateway.metric("keepgate_direct_memory_used_bytes");
          long bound = clients * (buffer + 64 * 1024L) + 32 * MIB;
          System.out.printf("%d stalled clients: heap %.1f MiB, direct %.1f MiB (bound %d MiB)%n", clients,
              heap / MIB, direct / MIB, bound / MIB);
          assertTrue(heap < 100 * MIB, "heap " + heap / MIB + " MiB of 160: responses are not copied to the heap");
          assertTrue(direct <= bound, "direct memory " + direct / MIB + " MiB, bound by responseBufferBytes + one read "
              + "per stalled exchange: " + bound / MIB + " MiB");
          assertEquals(200, gateway.admin("/health/live").statusCode(), "the admin listener answers");
          assertEquals(200, get(gateway.proxyPort(), "/small").status(), "another client is served");

          Await.until("the stalled exchanges were dropped after sendTimeoutMs", Duration.ofSeconds(60),
              () -> gateway.metric("keepgate_client_send_timeouts_total") >= clients);
          Await.until("their upstream connections were closed, not pooled", Duration.ofSeconds(30),
              () -> backend.open() <= 1);
        } finally {
          for (Socket socket : stalled) {
            socket.close();
          }
        }
        assertTrue(gateway.isAlive(), gateway.output());
        assertFalse(gateway.stderr().contains("OutOfMemoryError"), gateway.output());
        assertEquals(200, get(gateway.proxyPort(), "/small").status(), "back to normal");
      }
    }
  }

  @Test
  void connectionsBeyondMaxConnectionsGetAFast503() throws Exception {
    try (CountingBackend backend = backend()) {
      JsonObject config = GatewayHarness.config(backend.endpoint());
      config.getJsonObject("server").put("maxConnections", 10);
      try (GatewayProcess gateway = GatewayProcess.start(config)) {
        List<Socket> held = new ArrayList<>();
        try {
          for (int i = 0; i < 10; i++) {
            held.add(new Socket("127.0.0.1", gateway.proxyPort()));
          }
          Await.until("ten connections open", Duration.ofSeconds(10),
              () -> gateway.metric("keepgate_client_connections") == 10);
          try (RawClient eleventh = new RawClient(gateway.proxyPort())) {
            RawClient.Response refused = eleventh.readResponse();
            assertEquals(503, refused.status());
            assertEquals("too many connections\n", refused.body());
            assertTrue(eleventh.closedByServer());
          }
          assertEquals(1.0, gateway.metric("keepgate_client_connections_refused_total", "reason=\"max_connections\""));
          held.remove(0).close();
          Await.until("a place freed", Duration.ofSeconds(10), () -> gateway.metric("keepgate_client_connections") == 9);
          assertEquals(200, get(gateway.proxyPort(), "/small").status());
        } finally {
          for (Socket socket : held) {
            socket.close();
          }
        }
      }
    }
  }

  @Test
  void aConnectionFloodUnderASmallFileLimitLeavesTheAdminListenerAnswering() throws Exception {
    try (CountingBackend backend = backend()) {
      JsonObject config = GatewayHarness.config(backend.endpoint());
      try (GatewayProcess gateway = GatewayProcess.startWithOpenFileLimit(config, 512)) {
        List<Socket> flood = new ArrayList<>();
        try {
          for (int i = 0; i < 2000; i++) {
            try {
              flood.add(new Socket("127.0.0.1", gateway.proxyPort()));
            } catch (IOException refused) {
              // the backlog is full: the flood is as big as it gets
            }
          }
          Await.until("connections beyond the descriptors' share are refused", Duration.ofSeconds(30),
              () -> gateway.metric("keepgate_client_connections_refused_total", "reason=\"file_descriptors\"") > 0);
          for (int i = 0; i < 5; i++) {
            assertEquals(200, gateway.admin("/health/live").statusCode(), "liveness answers during the flood");
          }
          assertEquals(0.0, gateway.metric("keepgate_config_reloads_total", "result=\"rejected\""),
              "the config file was never taken for an invalid one");
        } finally {
          for (Socket socket : flood) {
            socket.close();
          }
        }
        Await.until("served again once the flood is gone", Duration.ofSeconds(30), () -> {
          try {
            return get(gateway.proxyPort(), "/small").status() == 200;
          } catch (IOException e) {
            return false;
          }
        });
        assertTrue(gateway.isAlive(), gateway.output());
        long acceptTraces = gateway.stderr().lines().filter(line -> line.contains("Too many open files")).count();
        assertTrue(acceptTraces <= 3, "accept failures are logged at a bounded rate: " + acceptTraces + " lines");
      }
    }
  }

  @Test
  void busyClientsUnderASmallFileLimitLeaveDescriptorsForTheirUpstreamConnectionsAndTheAdminListener()
      throws Exception {
    int openFiles = 512;
    Queue<HttpServerRequest> held = new ConcurrentLinkedQueue<>();
    try (CountingBackend backend = CountingBackend.start()) {
      backend.handler(held::add); // every request stays in flight, holding its upstream connection
      JsonObject config = GatewayHarness.config(backend.endpoint());
      GatewayHarness.pool(config).put("maxConnectionsPerEndpoint", openFiles); // the pool never limits first
      try (GatewayProcess gateway = GatewayProcess.startWithOpenFileLimit(config, openFiles)) {
        List<RawClient> clients = new ArrayList<>();
        try {
          // one busy client at a time, until the gateway refuses one: each holds a client and an upstream socket
          while (refusedForDescriptors(gateway) == 0) {
            assertTrue(clients.size() < openFiles, "never refused");
            RawClient client = new RawClient(gateway.proxyPort());
            clients.add(client);
            client.send("GET /slow HTTP/1.1\r\nHost: test\r\n\r\n");
            int admitted = clients.size();
            Await.until("client " + admitted + ": its request reached the backend, or it was refused",
                Duration.ofSeconds(10), () -> backend.requests() >= admitted || refusedForDescriptors(gateway) > 0);
          }
          int busy = backend.requests();
          assertEquals(clients.size() - 1, busy, "every client but the refused one reached the backend");
          // what the process held at start (jars, event loops, listeners) is not known here: the bound is the reserve
          assertTrue(2 * busy <= openFiles - RESERVED_FDS + 1, busy + " busy clients hold two descriptors each "
              + "(client and upstream): with those they leave the reserve of " + RESERVED_FDS);
          assertEquals(0.0, gateway.metric("keepgate_upstream_connect_failures_total"),
              "no upstream connect ran out of descriptors");
          for (int i = 0; i < 5; i++) {
            assertEquals(200, gateway.admin("/health/live").statusCode(), "liveness answers");
          }

          backend.vertx().runOnContext(v -> held.forEach(request -> request.response().end("ok")));
          for (RawClient client : clients.subList(0, busy)) {
            assertEquals(200, client.readResponse().status(), "every admitted request is answered");
          }
        } finally {
          for (RawClient client : clients) {
            client.close();
          }
        }
      }
    }
  }

  private static double refusedForDescriptors(GatewayProcess gateway) {
    return gateway.metric("keepgate_client_connections_refused_total", "reason=\"file_descriptors\"");
  }

  private static RawClient.Response get(int port, String path) throws IOException {
    try (RawClient client = new RawClient(port)) {
      client.send("GET " + path + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
      return client.readResponse();
    }
  }
}
