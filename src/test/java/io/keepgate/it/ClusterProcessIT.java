package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.Await;
import io.keepgate.testing.CountingBackend;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.GatewayProcess;
import io.keepgate.testing.RawClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The claim under test, across processes: three gateway JVMs share {@code maxConnectionsTotal}
 * of one upstream. Under load from every node the backend never holds more than the budget (plus
 * the documented transient of one connection per node during a re-split); when one node is
 * killed with SIGKILL the survivors take over its share; and a frozen member (SIGSTOP) stalls no
 * request on the others and leaves the cluster within the heartbeat timeout.
 */
class ClusterProcessIT {
  private static final int BUDGET = 6;
  private final List<GatewayProcess> nodes = new ArrayList<>();
  private final AtomicBoolean loading = new AtomicBoolean(true);
  private final ExecutorService load = Executors.newCachedThreadPool();
  private CountingBackend backend;

  @AfterEach
  void stop() throws Exception {
    loading.set(false);
    load.shutdownNow();
    load.awaitTermination(10, TimeUnit.SECONDS);
    for (GatewayProcess node : nodes) {
      if (node.isAlive()) {
        node.signal(GatewayProcess.Signal.CONT);
      }
      node.close();
    }
    if (backend != null) {
      backend.close(); // after the gateways, which keep connecting to it until they stop
    }
  }

  private void startNodes(CountingBackend backend) throws Exception {
    int[] ports = new int[3];
    for (int i = 0; i < 3; i++) {
      try (ServerSocket socket = new ServerSocket(0)) {
        ports[i] = socket.getLocalPort();
      }
    }
    String name = "proc-" + System.nanoTime();
    for (int port : ports) {
      JsonObject config = GatewayHarness.config(backend.endpoint());
      GatewayHarness.pool(config).put("maxConnectionsTotal", BUDGET).put("pendingTimeoutMs", 10_000);
      config.put("cluster", new JsonObject().put("enabled", true).put("name", name).put("host", "127.0.0.1")
          .put("port", port)
          .put("members", new JsonArray(IntStream.of(ports).mapToObj(p -> (Object) ("127.0.0.1:" + p)).toList())));
      nodes.add(GatewayProcess.start(config, "-Xmx128m"));
    }
    Await.equal("three members", Duration.ofSeconds(30), 3, () -> members(nodes.get(0)));
  }

  private static int members(GatewayProcess node) {
    try {
      return new JsonObject(node.admin("/admin/cluster").body()).getJsonArray("members").size();
    } catch (Exception e) {
      return -1;
    }
  }

  private static int share(GatewayProcess node) {
    try {
      return new JsonObject(node.admin("/admin/pools").body()).getJsonObject("upstreams").getJsonObject("up")
          .getJsonObject("budget").getInteger("share");
    } catch (Exception e) {
      return -1;
    }
  }

  /** Four clients per node sending keep-alive requests until stopped; returns the slowest response. */
  private AtomicLong loadEveryNode(List<GatewayProcess> targets, AtomicInteger failures) {
    AtomicLong slowestMillis = new AtomicLong();
    for (GatewayProcess node : targets) {
      for (int c = 0; c < 4; c++) {
        load.submit(() -> {
          while (loading.get()) {
            try (RawClient client = new RawClient(node.proxyPort())) {
              client.timeout(30_000);
              for (int i = 0; i < 20 && loading.get(); i++) {
                long start = System.nanoTime();
                client.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n");
                int status = client.readResponse().status();
                slowestMillis.accumulateAndGet(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), Math::max);
                if (status != 200) {
                  failures.incrementAndGet();
                }
              }
            } catch (Exception e) {
              if (loading.get() && node.isAlive()) {
                failures.incrementAndGet();
              }
            }
          }
          return null;
        });
      }
    }
    return slowestMillis;
  }

  @Test
  void theBackendNeverHoldsMoreThanTheBudgetAndSurvivorsTakeOverAKilledNodesShare() throws Exception {
    backend = CountingBackend.start();
    backend.handler(request -> backend.vertx().setTimer(5, id -> request.response().end("ok")));
    startNodes(backend);
    AtomicInteger maxOpen = new AtomicInteger();
    load.submit(() -> {
      while (loading.get()) {
        maxOpen.accumulateAndGet(backend.open(), Math::max);
        Thread.sleep(2); // sampling the backend's connection count, not awaiting a condition
      }
      return null;
    });
    AtomicInteger failures = new AtomicInteger();
    loadEveryNode(nodes, failures);
    Await.until("every node at work", Duration.ofSeconds(10), () -> backend.requests() > 300);
    assertEquals(List.of(2, 2, 2), nodes.stream().map(ClusterProcessIT::share).toList());

    GatewayProcess killed = nodes.get(2);
    killed.signal(GatewayProcess.Signal.KILL);
    long killedAt = System.nanoTime();
    Await.equal("the survivors re-split the budget 3 + 3", Duration.ofSeconds(10), List.of(3, 3),
        () -> nodes.subList(0, 2).stream().map(ClusterProcessIT::share).toList());
    System.out.printf("kill -9: re-split after %d ms%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt));
    int requestsAfterResplit = backend.requests();
    Await.until("the survivors keep serving", Duration.ofSeconds(10), () -> backend.requests() > requestsAfterResplit + 200);
    loading.set(false);

    assertTrue(maxOpen.get() <= BUDGET + nodes.size(),
        "the backend held at most the budget plus one per node in transit: max " + maxOpen.get());
    System.out.printf("cluster budget %d: backend held at most %d connections%n", BUDGET, maxOpen.get());
  }

  @Test
  void aFrozenMemberStallsNoRequestElsewhereAndLeavesWithinTheHeartbeatTimeout() throws Exception {
    backend = CountingBackend.start();
    startNodes(backend);
    AtomicInteger failures = new AtomicInteger();
    AtomicLong slowest = loadEveryNode(nodes.subList(0, 2), failures);
    Await.until("load running", Duration.ofSeconds(10), () -> backend.requests() > 200);
    slowest.set(0);

    GatewayProcess frozen = nodes.get(2);
    frozen.signal(GatewayProcess.Signal.STOP);
    long frozenAt = System.nanoTime();
    Await.equal("the frozen member leaves", Duration.ofSeconds(10), 2, () -> members(nodes.get(0)));
    long leftAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - frozenAt);
    System.out.printf("SIGSTOP: member removed after %d ms; slowest request meanwhile %d ms%n", leftAfter,
        slowest.get());
    assertTrue(leftAfter <= 8000, "left within the 5 s heartbeat timeout plus slack: " + leftAfter + " ms");
    assertTrue(slowest.get() < 1000, "no request stalled on the frozen peer: slowest " + slowest.get() + " ms");
    assertEquals(0, failures.get(), "no request failed on the other nodes");

    frozen.signal(GatewayProcess.Signal.CONT);
    Await.equal("the thawed member merges back", Duration.ofSeconds(40), 3, () -> members(nodes.get(0)));
  }
}
