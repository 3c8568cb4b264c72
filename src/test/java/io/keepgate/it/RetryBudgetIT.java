package io.keepgate.it;

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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The claim under test, across two gateway processes: a backend that fails every reused connection
 * (the keep-alive race on each second request of a connection) wants a retry for about every other
 * request; with {@code retryBudget} on, the retries of both nodes together stay within one budget,
 * {@code percent} of the cluster's request rate plus {@code minPerSecond}, where two separate
 * per-node budgets would allow the floor twice.
 */
class RetryBudgetIT {
  private static final int PERCENT = 1;
  private static final int MIN_PER_SECOND = 10;
  private static final int WINDOW_SECONDS = 8;

  private final List<GatewayProcess> nodes = new ArrayList<>();
  private final AtomicBoolean loading = new AtomicBoolean(true);
  private final ExecutorService load = Executors.newCachedThreadPool();
  private Vertx vertx;

  @AfterEach
  void stop() throws Exception {
    loading.set(false);
    load.shutdownNow();
    load.awaitTermination(10, TimeUnit.SECONDS);
    nodes.forEach(GatewayProcess::close);
    if (vertx != null) {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  /** Answers the first request of each connection; drops the connection, unanswered, on the second. */
  private String failingOnReuseBackend() throws Exception {
    vertx = Vertx.vertx();
    NetServer server = vertx.createNetServer().connectHandler(socket -> {
      AtomicInteger requests = new AtomicInteger();
      socket.handler(data -> {
        if (requests.incrementAndGet() == 1) {
          socket.write(Buffer.buffer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        } else {
          socket.close();
        }
      });
    }).listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    return "127.0.0.1:" + server.actualPort();
  }

  @Test
  void twoNodesUnderLoadRetryWithinOneClusterBudget() throws Exception {
    String backend = failingOnReuseBackend();
    startTwoNodes(backend);
    for (GatewayProcess node : nodes) {
      for (int c = 0; c < 3; c++) {
        load.submit(() -> keepSending(node));
      }
    }
    // both nodes' request rates are known to each other: their parts add up to one budget
    Await.until("the budget split between the nodes", Duration.ofSeconds(20), () -> {
      double rates = budgetField(nodes.get(0), "requestRate") + budgetField(nodes.get(1), "requestRate");
      double parts = budgetField(nodes.get(0), "perSecond") + budgetField(nodes.get(1), "perSecond");
      double floor = parts - PERCENT / 100.0 * rates; // the floor both nodes' parts hold together
      return budgetField(nodes.get(0), "requestRate") > 0 && budgetField(nodes.get(1), "requestRate") > 0
          && floor > 0.8 * MIN_PER_SECOND && floor < 1.2 * MIN_PER_SECOND;
    });

    long[] before = totals();
    long start = System.nanoTime();
    Thread.sleep(TimeUnit.SECONDS.toMillis(WINDOW_SECONDS)); // the measuring window, not a wait for a condition
    long[] after = totals();
    double seconds = (System.nanoTime() - start) / 1e9;
    loading.set(false);

    long firstTries = (after[0] - after[1]) - (before[0] - before[1]);
    long retries = after[1] - before[1];
    long refused = after[2] - before[2];
    double budget = PERCENT / 100.0 * firstTries + MIN_PER_SECOND * seconds;
    double separateBudgets = PERCENT / 100.0 * firstTries + 2 * MIN_PER_SECOND * seconds;
    // slack of two seconds of the cluster's allowance: what the two buckets hold when the window opens,
    // and a second of parts set from rates up to a snapshot old
    double bound = budget + 2 * (PERCENT / 100.0 * firstTries / seconds + MIN_PER_SECOND);
    System.out.printf("retry budget over %.1f s: %d first tries, %d retries made, %d refused; one cluster budget "
        + "%.0f (bound with full buckets %.0f), two separate budgets %.0f%n", seconds, firstTries, retries, refused,
        budget, bound, separateBudgets);
    assertTrue(retries + refused > separateBudgets,
        "the backend wanted more retries than even two separate budgets allow: " + (retries + refused));
    assertTrue(retries <= bound, "the cluster's retries within one budget: " + retries + " > " + bound);
    assertTrue(retries >= 0.5 * budget, "and the budget is used, not something else limiting: " + retries);
  }

  /** One keep-alive client sending GETs until the test ends; 502s (retries refused) are expected. */
  private Void keepSending(GatewayProcess node) {
    while (loading.get()) {
      try (RawClient client = new RawClient(node.host(), node.proxyPort())) {
        client.timeout(10_000);
        while (loading.get()) {
          client.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n").readResponse();
        }
      } catch (Exception e) {
        // a 502 that closed the connection, or the end of the test: a new connection
      }
    }
    return null;
  }

  /** Requests sent, retries made and retries refused, summed over both nodes. */
  private long[] totals() throws Exception {
    long[] sums = new long[3];
    for (GatewayProcess node : nodes) {
      JsonObject endpoints = upstream(node).getJsonObject("endpoints");
      for (String name : endpoints.fieldNames()) {
        JsonObject endpoint = endpoints.getJsonObject(name);
        sums[0] += endpoint.getLong("requests");
        sums[1] += endpoint.getLong("retries");
        sums[2] += endpoint.getLong("retriesRefused");
      }
    }
    return sums;
  }

  private static JsonObject upstream(GatewayProcess node) throws Exception {
    return new JsonObject(node.admin("/admin/pools").body()).getJsonObject("upstreams").getJsonObject("up");
  }

  private static double budgetField(GatewayProcess node, String field) {
    try {
      return upstream(node).getJsonObject("retryBudget").getDouble(field);
    } catch (Exception e) {
      return -1;
    }
  }

  private void startTwoNodes(String backend) throws Exception {
    int[] ports = new int[2];
    for (int i = 0; i < ports.length; i++) {
      try (ServerSocket socket = new ServerSocket(0)) {
        ports[i] = socket.getLocalPort();
      }
    }
    String name = "retry-" + System.nanoTime();
    for (int port : ports) {
      JsonObject config = GatewayHarness.config(backend);
      GatewayHarness.upstream(config)
          .put("retryBudget", new JsonObject().put("enabled", true).put("percent", PERCENT).put("minPerSecond", MIN_PER_SECOND))
          // the failures are the point here: no ejection
          .put("healthCheck", new JsonObject().put("unhealthyThreshold", 1_000_000));
      config.put("cluster", new JsonObject().put("enabled", true).put("name", name).put("host", "127.0.0.1")
          .put("port", port).put("members", new JsonArray().add("127.0.0.1:" + ports[0]).add("127.0.0.1:" + ports[1])));
      nodes.add(GatewayProcess.start(config, "-Xmx128m"));
    }
    Await.equal("two members", Duration.ofSeconds(30), 2, () -> ClusterProcessIT.members(nodes.get(0)));
  }
}
