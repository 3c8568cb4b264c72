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
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The claims of {@code pool.connectRate} and {@code pool.warmup}, across processes: gateway JVMs in
 * one cluster against one backend that records when it accepts each connection.
 *
 * <ul>
 *   <li>Three nodes start together with a cluster-wide rate of {@value #PER_SECOND} connects per
 *       second and a burst of {@value #BURST}, and {@value #CLIENTS_PER_NODE} clients on each ask for
 *       {@value #CLIENTS_PER_NODE} x 3 connections at once: over every 1 s window the backend accepts
 *       at most {@code perSecond + burst} (plus {@value #SLACK} for scheduling, below). The same
 *       nodes under the same load with pacing off (a reload) are the control: the backend then
 *       accepts many more in one second, so the test would catch pacing that does nothing.</li>
 *   <li>Two nodes serve under load; a third joins with {@code warmup.percent} 100: it turns ready
 *       only after opening what an average peer holds, and its first requests all go out on those
 *       connections: its pools open nothing more and its access log says {@code conn=reused} for
 *       every one.</li>
 * </ul>
 */
class ConnectPacingIT {
  private static final int PER_SECOND = 12;
  private static final int BURST = 3;
  /**
   * Connects a 1 s window at the backend may see beyond {@code perSecond + burst}: the backend
   * stamps a connection when its event loop runs its handler, not when the node took the token, and
   * four JVMs share two cores here, so a connect may reach the backend's window up to a quarter
   * second after another member's; a quarter second of the rate is 3.
   */
  private static final int SLACK = 3;
  private static final int CLIENTS_PER_NODE = 40;

  private final List<GatewayProcess> nodes = new ArrayList<>();
  private final List<GatewayHarness> inProcess = new ArrayList<>();
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private CountingBackend backend;

  @AfterEach
  void stop() throws Exception {
    threads.shutdownNow();
    threads.awaitTermination(10, TimeUnit.SECONDS);
    for (GatewayProcess node : nodes) {
      node.close();
    }
    for (GatewayHarness node : inProcess) {
      node.close();
    }
    if (backend != null) {
      backend.close(); // after the gateways, which keep connecting to it until they stop
    }
  }

  @Test
  void threeNodesStartingTogetherOpenNoMoreConnectionsPerSecondThanTheClusterRate() throws Exception {
    backend = CountingBackend.start();
    backend.handler(request -> backend.vertx().setTimer(100, id -> request.response().end("ok")));
    warmUp(backend); // a cold backend stamps its first accepts late, in a bunch, as if they came at once
    int before = backend.acceptTimes().size();
    int[] ports = freePorts(3);
    String cluster = "pacing-" + System.nanoTime();
    List<JsonObject> configs = IntStream.range(0, 3).mapToObj(i -> {
      JsonObject config = nodeConfig(cluster, ports, i);
      GatewayHarness.pool(config).put("connectRate", new JsonObject().put("perSecond", PER_SECOND).put("burst", BURST));
      return config;
    }).toList();
    startTogether(configs);
    for (GatewayProcess node : nodes) {
      Await.equal("three members", Duration.ofSeconds(30), 3, () -> ClusterProcessIT.members(node));
    }
    // a member that joined twice while the three formed (a new identity) holds a share until it is known gone
    double[] rates = new double[3];
    Await.until("the members' shares add up to the cluster rate", Duration.ofSeconds(30), () -> {
      for (int i = 0; i < 3; i++) {
        rates[i] = nodes.get(i).metric("keepgate_upstream_connect_rate");
      }
      return Math.abs(rates[0] + rates[1] + rates[2] - PER_SECOND) < 0.001;
    });

    Load paced = Load.start(threads, nodes, CLIENTS_PER_NODE);
    long pacedFrom = System.nanoTime();
    Await.until("60 connections opened under pacing", Duration.ofSeconds(30), () -> backend.accepted() - before >= 60);
    long pacedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - pacedFrom);
    assertEquals(List.of(), paced.stop(), "every request answered 200 while connects waited for the rate");
    List<Long> pacedAccepts = backend.acceptTimes().subList(before, backend.acceptTimes().size());
    int pacedPeak = peakPerWindow(pacedAccepts, Duration.ofSeconds(1));
    for (GatewayProcess node : nodes) {
      assertTrue(node.metric("keepgate_upstream_connects_paced_total") > 0, "every node waited for its share");
    }

    for (int i = 0; i < 3; i++) { // the control: the same nodes and load, connects unpaced
      JsonObject unpaced = nodeConfig(cluster, ports, i);
      GatewayHarness.pool(unpaced).put("connectRate", new JsonObject().put("perSecond", 0));
      nodes.get(i).rewriteConfig(unpaced);
      assertEquals(200, nodes.get(i).adminPost("/admin/reload").statusCode());
    }
    Await.until("the paced pools' connections closed by the reload", Duration.ofSeconds(20), () -> backend.open() == 0);
    int controlFrom = backend.acceptTimes().size();
    Load unpacedLoad = Load.start(threads, nodes, CLIENTS_PER_NODE);
    Await.until("connections opened without pacing", Duration.ofSeconds(30),
        () -> backend.accepted() - controlFrom >= 100);
    assertEquals(List.of(), unpacedLoad.stop());
    List<Long> all = backend.acceptTimes();
    int controlPeak = peakPerWindow(all.subList(controlFrom, all.size()), Duration.ofSeconds(1));

    System.out.println("paced accepts, ms after the first: "
        + pacedAccepts.stream().map(t -> (t - pacedAccepts.get(0)) / 1_000_000).toList());
    System.out.printf("connectRate %d/s burst %d over 3 nodes (shares %.3f %.3f %.3f): %d connections in %d ms,"
            + " at most %d in any 1 s window; unpaced control: at most %d in 1 s%n", PER_SECOND, BURST, rates[0],
        rates[1], rates[2], pacedAccepts.size(), pacedMillis, pacedPeak, controlPeak);
    assertTrue(pacedPeak <= PER_SECOND + BURST + SLACK,
        "paced: at most perSecond + burst (+ slack) accepts in any 1 s window, saw " + pacedPeak);
    assertTrue(controlPeak > PER_SECOND + BURST + SLACK,
        "the control would have failed the bound: " + controlPeak + " accepts in 1 s without pacing");
  }

  @Test
  void aNodeThatJoinsUnderLoadServesItsFirstRequestsOnConnectionsItOpenedBeforeTurningReady() throws Exception {
    backend = CountingBackend.start();
    backend.handler(request -> backend.vertx().setTimer(20, id -> request.response().end("ok")));
    int[] ports = freePorts(3);
    String cluster = "warmup-" + System.nanoTime();
    startTogether(List.of(warmupConfig(cluster, ports, 0), warmupConfig(cluster, ports, 1)));
    Load load = Load.start(threads, nodes, 6);
    Await.until("both nodes hold a connection per client", Duration.ofSeconds(20),
        () -> backend.open() >= 12 && backend.requests() > 200);

    JsonObject joining = warmupConfig(cluster, ports, 2);
    joining.put("accessLog", new JsonObject().put("enabled", true));
    GatewayProcess third = GatewayProcess.start(joining, "-Xmx128m"); // returns once readiness says 200
    nodes.add(third);
    String readiness = third.admin("/health/ready").body().trim();
    JsonObject pool = endpointPool(third);
    Matcher warm = Pattern.compile("warmup complete: (\\d+) of (\\d+) connections opened in (\\d+) ms").matcher(readiness);
    assertTrue(warm.find(), "readiness says the warmup completed: " + readiness);
    int opened = Integer.parseInt(warm.group(1));
    assertEquals(warm.group(2), warm.group(1), readiness);
    assertTrue(opened >= 6, "at least what a peer's six clients hold: " + readiness);
    assertEquals(opened, pool.getInteger("opened"), "every connection it holds was opened before it turned ready");
    assertEquals(opened, pool.getInteger("warmupConnections"));
    assertEquals(opened, pool.getInteger("idle"));
    assertEquals(0, pool.getInteger("requests"));

    int firstRequests = 30;
    AtomicInteger ok = new AtomicInteger();
    List<Future<?>> clients = new ArrayList<>();
    for (int c = 0; c < 3; c++) { // at most 3 at once: each of its 2 loops holds at least 3 warm connections
      clients.add(threads.submit(() -> {
        try (RawClient client = new RawClient(third.host(), third.proxyPort())) {
          for (int i = 0; i < firstRequests / 3; i++) {
            client.send("GET /first HTTP/1.1\r\nHost: test\r\n\r\n");
            if (client.readResponse().status() == 200) {
              ok.incrementAndGet();
            }
          }
        }
        return null;
      }));
    }
    for (Future<?> client : clients) {
      client.get(30, TimeUnit.SECONDS);
    }
    assertEquals(firstRequests, ok.get());
    assertEquals(List.of(), load.stop(), "the peers served throughout");
    JsonObject after = endpointPool(third);
    assertEquals(firstRequests, after.getInteger("requests"));
    assertEquals(opened, after.getInteger("opened"), "its first requests opened no connection: they found warm ones");
    Await.until("the access log of the first requests", Duration.ofSeconds(5),
        () -> accessLines(third, "GET /first").size() == firstRequests);
    List<String> lines = accessLines(third, "GET /first");
    assertEquals(List.of(), lines.stream().filter(line -> !line.contains("conn=reused")).toList(),
        "every first request went out on a pooled connection");
    assertEquals((double) opened, third.metric("keepgate_upstream_warmup_connections_total"));
    assertTrue(third.stderr().contains("warmup complete: " + opened + " of " + opened), "the log says so too");
    System.out.printf("warm hand-off: the joining node opened %d connections before it turned ready (%s); its first %d"
        + " requests opened none%n", opened, readiness, firstRequests);
  }

  /** Serves the backend's request path a while from this JVM, so that its JIT and classes are warm before it is measured. */
  private static void warmUp(CountingBackend backend) throws Exception {
    for (int c = 0; c < 20; c++) {
      try (RawClient client = new RawClient(backend.port())) {
        for (int i = 0; i < 5; i++) {
          client.send("GET /warm HTTP/1.1\r\nHost: test\r\n\r\n");
          assertEquals(200, client.readResponse().status());
        }
      }
    }
  }

  /**
   * A warm hand-off that cannot finish in time: the joining node's share of a 1/s cluster rate is
   * 0.5/s, so of the (four) connections its peer holds it opens one at once and the next two
   * seconds later; readiness says it is warming up meanwhile, and turns 200 at the 1.5 s timeout saying so.
   * Two nodes in this JVM.
   */
  @Test
  void aWarmHandOffThatCannotFinishInTimeTurnsReadyAtItsTimeoutAndSaysSo() throws Exception {
    backend = CountingBackend.start();
    int[] ports = freePorts(2);
    String cluster = "warmup-timeout-" + System.nanoTime();
    GatewayHarness peer = GatewayHarness.start(nodeConfig(cluster, ports, 0));
    inProcess.add(peer);
    List<Future<?>> requests = new ArrayList<>();
    backend.handler(request -> backend.vertx().setTimer(300, id -> request.response().end("ok")));
    for (int i = 0; i < 4; i++) { // four at once: the peer opens four connections, idle afterwards
      requests.add(threads.submit(() -> {
        try (RawClient client = new RawClient(peer.port())) {
          client.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n");
          assertEquals(200, client.readResponse().status());
        }
        return null;
      }));
    }
    for (Future<?> request : requests) {
      request.get(10, TimeUnit.SECONDS);
    }
    int held = backend.accepted(); // four, unless a request came after another had ended
    assertTrue(held >= 2, "the peer holds connections: " + held);

    JsonObject joining = nodeConfig(cluster, ports, 1);
    GatewayHarness.pool(joining).put("connectRate", new JsonObject().put("perSecond", 1))
        .put("warmup", new JsonObject().put("percent", 100).put("timeoutMs", 1500));
    GatewayHarness node = GatewayHarness.start(joining); // returns before readiness when a warm hand-off runs
    inProcess.add(node);
    List<String> answers = new ArrayList<>();
    Await.until("readiness turns 200", Duration.ofSeconds(10), () -> {
      try {
        java.net.http.HttpResponse<String> ready = node.admin("/health/ready");
        String answer = ready.statusCode() + " " + ready.body().trim();
        if (answers.isEmpty() || !answers.get(answers.size() - 1).equals(answer)) {
          answers.add(answer);
        }
        return ready.statusCode() == 200;
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
    System.out.println("readiness of a node whose warm hand-off timed out: " + answers);
    assertTrue(answers.get(0).startsWith("503 not ready: warming up"), answers.toString());
    Matcher timedOut = Pattern.compile("^200 ready \\(warmup timed out after (\\d+) ms: (\\d+) of " + held
        + " connections opened\\)$").matcher(answers.get(answers.size() - 1));
    assertTrue(timedOut.find(), answers.toString());
    assertTrue(Integer.parseInt(timedOut.group(1)) >= 1500);
    assertTrue(Integer.parseInt(timedOut.group(2)) <= 1, "0.5 connects a second: one at once, the next after 2 s");
    assertEquals(held, node.pool(backend.endpoint()).getInteger("warmupTarget"));
    assertEquals(0.5, node.metric("keepgate_upstream_connect_rate"), 1e-9);
  }

  /** A node's config: upstream "up" on the backend, member {@code index} of a cluster on {@code ports}. */
  private JsonObject nodeConfig(String name, int[] ports, int index) {
    JsonObject config = GatewayHarness.config(backend.endpoint());
    config.getJsonObject("server").put("eventLoops", 2);
    GatewayHarness.pool(config).put("pendingTimeoutMs", 60_000);
    config.put("cluster", new JsonObject().put("enabled", true).put("name", name).put("host", "127.0.0.1")
        .put("port", ports[index])
        .put("members", new JsonArray(IntStream.of(ports).mapToObj(p -> (Object) ("127.0.0.1:" + p)).toList())));
    return config;
  }

  private JsonObject warmupConfig(String name, int[] ports, int index) {
    JsonObject config = nodeConfig(name, ports, index);
    GatewayHarness.pool(config).put("warmup", new JsonObject().put("percent", 100).put("timeoutMs", 10_000));
    return config;
  }

  /** Starts one gateway JVM per config at the same time; returns once every one is ready. */
  private void startTogether(List<JsonObject> configs) throws Exception {
    List<Future<GatewayProcess>> starting = new ArrayList<>();
    for (JsonObject config : configs) {
      starting.add(threads.submit(() -> GatewayProcess.start(config, "-Xmx128m")));
    }
    for (Future<GatewayProcess> node : starting) {
      nodes.add(node.get(60, TimeUnit.SECONDS));
    }
  }

  private static int[] freePorts(int count) throws Exception {
    int[] ports = new int[count];
    for (int i = 0; i < count; i++) {
      try (ServerSocket socket = new ServerSocket(0)) {
        ports[i] = socket.getLocalPort();
      }
    }
    return ports;
  }

  /** The most accepts within any window of {@code window} (times in nanoseconds, ascending). */
  static int peakPerWindow(List<Long> times, Duration window) {
    int most = 0;
    for (int i = 0, j = 0; i < times.size(); i++) {
      while (times.get(i) - times.get(j) >= window.toNanos()) {
        j++;
      }
      most = Math.max(most, i - j + 1);
    }
    return most;
  }

  private static JsonObject endpointPool(GatewayProcess node) throws Exception {
    JsonObject endpoints = new JsonObject(node.admin("/admin/pools").body()).getJsonObject("upstreams")
        .getJsonObject("up").getJsonObject("endpoints");
    return endpoints.getJsonObject(endpoints.fieldNames().iterator().next());
  }

  private static List<String> accessLines(GatewayProcess node, String request) {
    return node.stdout().lines().filter(line -> line.contains(request)).toList();
  }

  /** Keep-alive clients on every node, each sending its next request when the last is answered, until stopped. */
  private static final class Load {
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    private final List<Future<?>> clients = new ArrayList<>();

    static Load start(ExecutorService threads, List<GatewayProcess> nodes, int clientsPerNode) {
      Load load = new Load();
      for (GatewayProcess node : nodes) {
        for (int c = 0; c < clientsPerNode; c++) {
          load.clients.add(threads.submit(() -> load.run(node)));
        }
      }
      return load;
    }

    private Void run(GatewayProcess node) {
      try (RawClient client = new RawClient(node.host(), node.proxyPort())) {
        client.timeout(60_000);
        while (running.get()) {
          client.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n");
          RawClient.Response response = client.readResponse();
          if (response.status() != 200) {
            failures.add(response.status() + " " + response.body().trim());
          }
        }
      } catch (Exception e) {
        failures.add(e.toString());
      }
      return null;
    }

    /** Stops the clients after their current request; returns what failed. */
    List<String> stop() throws Exception {
      running.set(false);
      for (Future<?> client : clients) {
        client.get(90, TimeUnit.SECONDS);
      }
      return List.copyOf(failures);
    }
  }
}
