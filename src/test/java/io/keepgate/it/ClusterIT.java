package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The claim under test, with several Hazelcast-backed nodes in one JVM on 127.0.0.1: an
 * endpoint ejected by one node is out of rotation on every node within a second; each
 * upstream's {@code maxConnectionsTotal} is split exactly among live members and re-split when
 * one joins or leaves; and {@code /admin/cluster} on any node shows every member and the totals.
 */
class ClusterIT {

  private static int[] freePorts(int n) throws Exception {
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        sockets.add(new ServerSocket(0));
      }
      return sockets.stream().mapToInt(ServerSocket::getLocalPort).toArray();
    } finally {
      for (ServerSocket socket : sockets) {
        socket.close();
      }
    }
  }

  private static JsonObject nodeConfig(String clusterName, int memberPort, int[] memberPorts, String... endpoints) {
    JsonObject config = GatewayHarness.config(endpoints);
    config.put("cluster", new JsonObject().put("enabled", true).put("name", clusterName).put("host", "127.0.0.1")
        .put("port", memberPort)
        .put("members", new JsonArray(IntStream.of(memberPorts).mapToObj(p -> (Object) ("127.0.0.1:" + p)).toList())));
    return config;
  }

  private static List<GatewayHarness> startNodes(String name, int count, java.util.function.Consumer<JsonObject> tweak,
      String... endpoints) throws Exception {
    int[] ports = freePorts(count);
    List<GatewayHarness> nodes = new ArrayList<>();
    for (int port : ports) {
      JsonObject config = nodeConfig(name, port, ports, endpoints);
      tweak.accept(config);
      nodes.add(GatewayHarness.start(config));
    }
    return nodes;
  }

  private static JsonObject cluster(GatewayHarness node) {
    try {
      return new JsonObject(node.admin("/admin/cluster").body());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static int share(GatewayHarness node) {
    try {
      JsonObject pools = new JsonObject(node.admin("/admin/pools").body());
      return pools.getJsonObject("upstreams").getJsonObject("up").getJsonObject("budget").getInteger("share");
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void anEndpointEjectedByOneNodeIsOutOfRotationOnEveryNodeWithinASecond() throws Exception {
    String dead = "127.0.0.1:" + freePorts(1)[0];
    List<GatewayHarness> nodes = startNodes("health-" + System.nanoTime(), 3, config ->
        GatewayHarness.upstream(config).put("healthCheck", new JsonObject().put("unhealthyThreshold", 1)
            .put("intervalMs", 60_000)), dead);
    try {
      Await.equal("three members", Duration.ofSeconds(20), 3, () -> cluster(nodes.get(2)).getJsonArray("members").size());
      try (RawClient client = new RawClient(nodes.get(0).port())) {
        client.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n");
        assertEquals(502, client.readResponse().status(), "node 0 fails to connect and ejects the endpoint");
      }
      long ejectedAt = System.nanoTime();
      for (GatewayHarness node : nodes.subList(1, 3)) {
        Await.equal("a peer adopts the ejection", Duration.ofSeconds(1), false,
            () -> node.pool(dead).getBoolean("healthy"));
      }
      Duration took = Duration.ofNanos(System.nanoTime() - ejectedAt);
      assertTrue(took.compareTo(Duration.ofSeconds(1)) <= 0, "propagated in " + took.toMillis() + " ms");
      try (RawClient client = new RawClient(nodes.get(1).port())) {
        client.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n");
        assertEquals(503, client.readResponse().status(), "node 1 sends nothing to the ejected endpoint");
      }
      assertEquals(0, nodes.get(1).pool(dead).getInteger("connectFailures"), "without trying it first");
    } finally {
      nodes.forEach(GatewayHarness::close);
    }
  }

  @Test
  void theConnectionBudgetIsSplitExactlyAndReSplitWhenAMemberLeaves() throws Exception {
    try (CountingBackend backend = CountingBackend.start()) {
      List<GatewayHarness> nodes = startNodes("budget-" + System.nanoTime(), 3, config ->
          GatewayHarness.pool(config).put("maxConnectionsTotal", 10), backend.endpoint());
      try {
        Await.equal("three members", Duration.ofSeconds(20), 3, () -> cluster(nodes.get(0)).getJsonArray("members").size());
        Await.equal("shares 4+3+3", Duration.ofSeconds(5), List.of(3, 3, 4),
            () -> nodes.stream().map(ClusterIT::share).sorted().toList());

        GatewayHarness leaving = nodes.remove(2);
        leaving.close();
        Await.equal("re-split 5+5 after a member left", Duration.ofSeconds(10), List.of(5, 5),
            () -> nodes.stream().map(ClusterIT::share).sorted().toList());
      } finally {
        nodes.forEach(GatewayHarness::close);
      }
    }
  }

  @Test
  void everyNodeShowsEveryMemberAndClusterWideTotals() throws Exception {
    try (CountingBackend backend = CountingBackend.start()) {
      List<GatewayHarness> nodes = startNodes("view-" + System.nanoTime(), 2, config -> { }, backend.endpoint());
      try {
        for (GatewayHarness node : nodes) {
          for (int i = 0; i < 5; i++) {
            try (RawClient client = new RawClient(node.port())) {
              client.send("GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
              assertEquals(200, client.readResponse().status());
            }
          }
        }
        Await.equal("totals add up both members' requests", Duration.ofSeconds(5), 10,
            () -> cluster(nodes.get(1)).getJsonObject("totals").getJsonObject("up").getJsonObject("endpoints")
                .getJsonObject(backend.endpoint()).getInteger("requests"));
        JsonObject view = cluster(nodes.get(0));
        assertEquals(true, view.getBoolean("enabled"));
        assertEquals(2, view.getJsonArray("members").size());
        assertEquals(1, view.getJsonArray("members").stream().filter(m -> ((JsonObject) m).getBoolean("self")).count());
      } finally {
        nodes.forEach(GatewayHarness::close);
      }
    }
  }
}
