package io.keepgate.it;

import static io.keepgate.it.ClusterProcessIT.loadEveryNode;
import static io.keepgate.it.ClusterProcessIT.members;
import static io.keepgate.it.ClusterProcessIT.membersWithSnapshots;
import static io.keepgate.it.ClusterProcessIT.sampleOpenConnections;
import static io.keepgate.it.ClusterProcessIT.share;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.Await;
import io.keepgate.testing.CountingBackend;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.GatewayProcess;
import io.keepgate.testing.TestNetwork;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
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
 * The claim under test: a network partition between cluster members never lets the backend hold
 * more than the budget plus one connection per node. Three gateway processes share a budget of 9:
 * A and B in one network namespace, C in another, the members talking over a direct link between
 * the two. Blocking that link with iptables inside C's namespace cuts C off: C, a minority, stops
 * renewing its lease and falls to one connection; A and B, a majority, take C's share only after
 * C's lease has run out. When the link heals the members merge and the shares are whole again.
 * Clients and the backend stay reachable from the test throughout: only cluster traffic is cut.
 */
class ClusterPartitionIT {
  private static final int BUDGET = 9;
  private static final int LEASE_MS = 3_000;
  private final List<GatewayProcess> nodes = new ArrayList<>();
  private final List<TestNetwork> networks = new ArrayList<>();
  private final AtomicBoolean loading = new AtomicBoolean(true);
  private final ExecutorService load = Executors.newCachedThreadPool();
  private CountingBackend backend;

  @AfterEach
  void stop() throws Exception {
    loading.set(false);
    load.shutdownNow();
    load.awaitTermination(10, TimeUnit.SECONDS);
    for (GatewayProcess node : nodes) {
      node.close();
    }
    if (backend != null) {
      backend.close();
    }
    for (TestNetwork network : networks) {
      network.close();
    }
  }

  @Test
  void aPartitionedMinorityFallsToOneConnectionBeforeTheMajorityTakesItsShare() throws Exception {
    TestNetwork ab = TestNetwork.create();
    networks.add(ab);
    TestNetwork c = TestNetwork.create();
    networks.add(c);
    TestNetwork.Link link = ab.link(c);
    backend = CountingBackend.startOn(ab.hostAddress()); // reached by C over its default route
    backend.handler(request -> backend.vertx().setTimer(5, id -> request.response().end("ok")));

    List<String> members = List.of(link.address() + ":5701", link.address() + ":5702", link.otherAddress() + ":5701");
    nodes.add(start(ab, link.address(), 5701, members));
    nodes.add(start(ab, link.address(), 5702, members));
    nodes.add(start(c, link.otherAddress(), 5701, members));
    Await.equal("three members", Duration.ofSeconds(30), 3, () -> members(nodes.get(0)));
    AtomicInteger maxOpen = sampleOpenConnections(load, loading, backend);
    AtomicInteger failures = new AtomicInteger();
    loadEveryNode(load, loading, nodes, failures);
    Await.until("every node uses its share of 3", Duration.ofSeconds(20), () -> backend.open() == BUDGET);

    // cut the members' link: inside C's namespace, drop everything to and from A and B's address
    c.iptables("-A", "INPUT", "-s", link.address(), "-j", "DROP");
    c.iptables("-A", "OUTPUT", "-d", link.address(), "-j", "DROP");
    long cutAt = System.nanoTime();
    Await.equal("C, alone, falls to one connection", Duration.ofSeconds(20), 1, () -> share(nodes.get(2)));
    long minorityAt = System.nanoTime();
    Await.equal("A and B take C's share over", Duration.ofSeconds(30), BUDGET,
        () -> share(nodes.get(0)) + share(nodes.get(1)));
    long majorityAt = System.nanoTime();
    System.out.printf("partition 2 | 1, lease %d ms: minority at the floor after %d ms, majority took over after %d ms%n",
        LEASE_MS, TimeUnit.NANOSECONDS.toMillis(minorityAt - cutAt), TimeUnit.NANOSECONDS.toMillis(majorityAt - cutAt));
    int requestsCut = backend.requests();
    Await.until("every side serves while cut off", Duration.ofSeconds(10),
        () -> backend.requests() > requestsCut + 300);

    c.iptables("-D", "INPUT", "-s", link.address(), "-j", "DROP");
    c.iptables("-D", "OUTPUT", "-d", link.address(), "-j", "DROP");
    Await.equal("the members merge and every snapshot is back, as each node sees it", Duration.ofSeconds(60),
        List.of(3L, 3L, 3L), () -> nodes.stream().map(ClusterProcessIT::membersWithSnapshots).toList());
    Await.equal("the shares are whole again", Duration.ofSeconds(20), List.of(3, 3, 3),
        () -> nodes.stream().map(ClusterProcessIT::share).toList());
    loading.set(false);

    System.out.printf("partition, budget %d: backend held at most %d connections%n", BUDGET, maxOpen.get());
    assertTrue(maxOpen.get() <= BUDGET + nodes.size(),
        "the backend held at most the budget plus one connection per node: max " + maxOpen.get());
    assertEquals(0, failures.get(), "no request failed on either side of the partition");
  }

  private GatewayProcess start(TestNetwork network, String clusterHost, int clusterPort, List<String> members)
      throws Exception {
    JsonObject config = GatewayHarness.config(backend.endpoint());
    GatewayHarness.pool(config).put("maxConnectionsTotal", BUDGET).put("pendingTimeoutMs", 30_000);
    config.put("cluster", new JsonObject().put("enabled", true).put("name", "partition").put("host", clusterHost)
        .put("port", clusterPort).put("leaseMs", LEASE_MS).put("members", new JsonArray(List.copyOf(members))));
    return GatewayProcess.startInNamespace(network.namespace(), network.peerAddress(), config, "-Xmx128m");
  }
}
