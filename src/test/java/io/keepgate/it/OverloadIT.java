package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.CountingBackend;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.GatewayProcess;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The claim under test: under overload keepgate degrades and never falls over. 5,000 concurrent
 * client connections against a pool of 8 get fast 503s past the queue limit while the queue is
 * served; a gateway with a 96 MiB heap survives it; and when the load drops the next request is
 * served at once.
 */
class OverloadIT {
  private static final int CLIENTS = 5000;
  private static final int POOL = 8;
  private static final int QUEUE = 100;
  private static final int PENDING_TIMEOUT_MS = 20_000;

  @Test
  void fiveThousandConcurrentClientsAgainstAPoolOfEightGetFast503sAndTheGatewayRecovers() throws Exception {
    try (CountingBackend backend = CountingBackend.start()) {
      backend.handler(request -> backend.vertx().setTimer(50, id -> request.response().end("ok")));
      JsonObject config = GatewayHarness.config(backend.endpoint());
      GatewayHarness.pool(config).put("maxConnectionsPerEndpoint", POOL).put("maxPendingRequests", QUEUE)
          .put("pendingTimeoutMs", PENDING_TIMEOUT_MS);
      try (GatewayProcess gateway = GatewayProcess.start(config, "-Xmx96m", "-XX:+ExitOnOutOfMemoryError")) {
        Vertx vertx = Vertx.vertx();
        try {
          NetClient net = vertx.createNetClient();
          List<NetSocket> sockets = new ArrayList<>();
          for (int i = 0; i < CLIENTS; i += 500) { // connect in batches: the accept backlog is finite
            List<Future<NetSocket>> batch = new ArrayList<>();
            for (int j = i; j < Math.min(CLIENTS, i + 500); j++) {
              batch.add(net.connect(gateway.proxyPort(), "127.0.0.1"));
            }
            Future.all(batch).await(60, TimeUnit.SECONDS);
            batch.forEach(f -> sockets.add(f.result()));
          }

          // All 5,000 connections are open; now every one of them sends its request at once.
          Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
          Map<String, AtomicInteger> rejectReasons = new ConcurrentHashMap<>();
          List<Long> rejectMillis = Collections.synchronizedList(new ArrayList<>());
          List<Future<Void>> answered = new ArrayList<>();
          for (NetSocket socket : sockets) {
            Promise<Void> done = Promise.promise();
            answered.add(done.future());
            long[] sentAt = new long[1];
            Buffer received = Buffer.buffer();
            socket.handler(received::appendBuffer);
            socket.endHandler(v -> {
              int status = Integer.parseInt(received.getString(9, 12));
              statuses.computeIfAbsent(status, s -> new AtomicInteger()).incrementAndGet();
              if (status == 503) {
                rejectMillis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sentAt[0]));
                String body = received.toString();
                String reason = body.substring(body.indexOf("\r\n\r\n") + 4).trim();
                rejectReasons.computeIfAbsent(reason, r -> new AtomicInteger()).incrementAndGet();
              }
              done.tryComplete();
            });
            sentAt[0] = System.nanoTime();
            socket.write("GET /load HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
          }
          Future.join(answered).await(120, TimeUnit.SECONDS);

          int ok = count(statuses, 200);
          int rejected = count(statuses, 503);
          assertEquals(CLIENTS, ok + rejected, "every client got 200 or 503: " + statuses);
          assertTrue(ok >= POOL + QUEUE, "at least the pool and its queue were served: " + statuses);
          assertTrue(rejected > 0, "the overload was refused, not queued without bound: " + statuses);
          List<Long> sorted = new ArrayList<>(rejectMillis);
          Collections.sort(sorted);
          long p95 = sorted.get((int) (sorted.size() * 0.95) - 1);
          // Refused on arrival, never after waiting out the queue: every 503 is the queue-full answer,
          // and even on a loaded 2-core machine they come well inside pendingTimeoutMs.
          assertEquals(Map.of("pending queue full (" + QUEUE + " requests waiting)", rejected),
              rejectReasons.entrySet().stream().collect(java.util.stream.Collectors.toMap(Map.Entry::getKey,
                  e -> e.getValue().get())), "every 503 is an immediate refusal");
          assertTrue(p95 < PENDING_TIMEOUT_MS / 4, "503s are fast: p95 " + p95 + " ms over " + sorted.size());
          // every connection beyond the pool replaced one that another event loop gave up (rebalanced)
          JsonObject pool = new JsonObject(gateway.admin("/admin/pools").body()).getJsonObject("upstreams")
              .getJsonObject("up").getJsonObject("endpoints").getJsonObject(backend.endpoint());
          int rebalanced = pool.getJsonObject("closed").getInteger("rebalanced");
          assertTrue(backend.accepted() <= POOL + rebalanced,
              "the backend saw " + backend.accepted() + " connections for a pool of " + POOL + ": " + pool);

          assertTrue(gateway.isAlive(), "the gateway survived with a 96 MiB heap: " + gateway.output());
          HttpClientAgent client = vertx.createHttpClient();
          var after = client.request(new RequestOptions().setHost("127.0.0.1").setPort(gateway.proxyPort())
              .setURI("/after")).compose(r -> r.send()).await(5, TimeUnit.SECONDS);
          assertEquals(200, after.statusCode(), "served at once when the load is gone");
          System.out.printf("overload: %d x 200, %d x 503 (p95 %d ms), backend connections %d%n", ok, rejected, p95,
              backend.accepted());
        } finally {
          vertx.close().await(10, TimeUnit.SECONDS);
        }
      }
    }
  }

  private static int count(Map<Integer, AtomicInteger> statuses, int status) {
    AtomicInteger n = statuses.get(status);
    return n == null ? 0 : n.get();
  }
}
