package io.keepgate.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.upstream.PoolFixture.Recorder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The HTTP keep-alive pool of one event loop, without sockets: connects completed by hand, time
 * advanced by hand, ticks fired by hand. Every expiry is asserted on both sides of its deadline.
 */
class LoopPoolTest {

  private static Recorder acquire(LoopPool pool) {
    Recorder waiter = new Recorder();
    pool.acquire(waiter);
    return waiter;
  }

  @Test
  void aReleasedConnectionIsReusedWithoutAConnectAndTheMostRecentFirst() throws Exception {
    PoolFixture f = new PoolFixture("{}");
    Recorder first = acquire(f.pool());
    Recorder second = acquire(f.pool());
    assertEquals(2, f.connects.size(), "no idle connection: one connect per waiter");
    UpstreamConnection a = f.completeConnect();
    UpstreamConnection b = f.completeConnect();
    assertSame(a, first.leased);
    assertSame(b, second.leased);
    f.pool().recycle(a, -1);
    f.pool().recycle(b, -1);

    Recorder third = acquire(f.pool());
    assertSame(b, third.leased, "LIFO: the most recently released connection, at once");
    assertTrue(third.leased.reused());
    assertEquals(0, f.connects.size());
    assertEquals(1, f.pool().active());
    assertEquals(1, f.pool().idle());
  }

  @Test
  void anIdleConnectionClosesAtIdleTimeoutAndNotBefore() throws Exception {
    PoolFixture f = new PoolFixture("{\"idleTimeoutMs\":1000}");
    acquire(f.pool());
    UpstreamConnection connection = f.completeConnect();
    f.pool().recycle(connection, -1);

    f.advance(Duration.ofMillis(999));
    f.tick();
    assertEquals(1, f.pool().idle(), "999 ms idle: kept");
    f.advance(Duration.ofMillis(1));
    f.tick();
    assertEquals(0, f.pool().idle());
    assertEquals(1, f.closed(CloseReason.IDLE_TIMEOUT));
    assertEquals(0, f.openChannels());
  }

  @Test
  void aConnectionClosesAheadOfTheBackendsKeepAliveTimeout() throws Exception {
    PoolFixture f = new PoolFixture("{\"idleTimeoutMs\":30000}");
    acquire(f.pool());
    UpstreamConnection connection = f.completeConnect();
    f.pool().recycle(connection, 1); // the backend said Keep-Alive: timeout=1

    f.advance(Duration.ofMillis(749));
    f.tick();
    assertEquals(1, f.pool().idle(), "749 ms: still before the 250 ms margin");
    assertSame(connection, acquire(f.pool()).leased, "and reusable");
    f.pool().recycle(connection, 1);
    f.advance(Duration.ofMillis(751));
    f.tick();
    assertEquals(0, f.pool().idle(), "751 ms after its last release: closed before the backend's 1 s");
    assertEquals(1, f.closed(CloseReason.IDLE_TIMEOUT));
  }

  @Test
  void aConnectionRetiresAfterMaxLifetimeWithUpToTenPercentJitter() throws Exception {
    PoolFixture f = new PoolFixture("{\"maxLifetimeMs\":10000,\"idleTimeoutMs\":60000,\"maxConnectionsPerEndpoint\":50}");
    for (int i = 0; i < 50; i++) {
      acquire(f.pool());
    }
    List<UpstreamConnection> connections = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      UpstreamConnection connection = f.completeConnect();
      assertTrue(connection.retireAtNanos - connection.openedAtNanos <= Duration.ofSeconds(10).toNanos());
      assertTrue(connection.retireAtNanos - connection.openedAtNanos >= Duration.ofSeconds(9).toNanos());
      connections.add(connection);
    }
    connections.forEach(connection -> f.pool().recycle(connection, -1));
    f.advance(Duration.ofMillis(8999));
    f.tick();
    assertEquals(50, f.pool().idle(), "none retires before 90 % of maxLifetime");
    f.advance(Duration.ofMillis(1001));
    f.tick();
    assertEquals(0, f.pool().idle(), "all retired by maxLifetime");
    assertEquals(50, f.closed(CloseReason.MAX_LIFETIME));
  }

  @Test
  void aConnectionRetiresAfterMaxRequests() throws Exception {
    PoolFixture f = new PoolFixture("{\"maxRequestsPerConnection\":2}");
    acquire(f.pool());
    UpstreamConnection connection = f.completeConnect();
    f.pool().recycle(connection, -1);
    assertSame(connection, acquire(f.pool()).leased);
    f.pool().recycle(connection, -1);
    assertEquals(0, f.pool().idle(), "closed after its second request");
    assertEquals(1, f.closed(CloseReason.MAX_REQUESTS));
  }

  @Test
  void requestsBeyondTheConnectionLimitQueueUpToMaxPendingRequestsThenFailFast() throws Exception {
    PoolFixture f = new PoolFixture("{\"maxConnectionsPerEndpoint\":1,\"maxPendingRequests\":2}");
    Recorder opener = acquire(f.pool());
    Recorder queued1 = acquire(f.pool());
    Recorder queued2 = acquire(f.pool());
    Recorder refused = acquire(f.pool());
    assertEquals(1, f.connects.size(), "one connection at most");
    assertEquals(PoolFailure.Kind.PENDING_QUEUE_FULL, refused.failure.kind());
    assertNull(queued1.failure);

    UpstreamConnection connection = f.completeConnect();
    assertSame(connection, opener.leased);
    f.pool().recycle(connection, -1);
    assertSame(connection, queued1.leased, "a released connection goes to the next waiter in order");
    f.pool().recycle(connection, -1);
    assertSame(connection, queued2.leased);
    assertEquals(0, f.pool().pending());
  }

  @Test
  void aWaiterFailsAfterPendingTimeoutAndNotBefore() throws Exception {
    PoolFixture f = new PoolFixture("{\"maxConnectionsPerEndpoint\":1,\"pendingTimeoutMs\":500}");
    acquire(f.pool());
    f.completeConnect(); // leased and kept
    Recorder waiter = acquire(f.pool());
    f.advance(Duration.ofMillis(499));
    f.tick();
    assertNull(waiter.failure);
    f.advance(Duration.ofMillis(1));
    f.tick();
    assertEquals(PoolFailure.Kind.PENDING_TIMEOUT, waiter.failure.kind());
    assertEquals(0, f.pool().pending());
  }

  @Test
  void aCancelledWaiterIsNeverCalledBack() throws Exception {
    PoolFixture f = new PoolFixture("{\"maxConnectionsPerEndpoint\":1}");
    acquire(f.pool());
    UpstreamConnection connection = f.completeConnect();
    Recorder waiter = acquire(f.pool());
    f.pool().cancel(waiter);
    f.pool().recycle(connection, -1);
    assertNull(waiter.leased);
    assertEquals(1, f.pool().idle());
  }

  @Test
  void whenTheBudgetShrinksIdleConnectionsRetireLeastRecentlyUsedFirst() throws Exception {
    PoolFixture f = new PoolFixture(1, "{\"name\":\"up\",\"endpoints\":[\"b:1\"],\"pool\":{\"maxConnectionsTotal\":3}}", 3);
    for (int i = 0; i < 3; i++) {
      acquire(f.pool());
    }
    UpstreamConnection oldest = f.completeConnect();
    UpstreamConnection middle = f.completeConnect();
    UpstreamConnection newest = f.completeConnect();
    f.pool().recycle(oldest, -1);
    f.pool().recycle(middle, -1);
    f.pool().recycle(newest, -1);
    f.cluster.share = 1;
    assertTrue(f.budget.resplit());
    f.endpoint.shedOverBudget();
    assertEquals(2, f.closed(CloseReason.BUDGET));
    assertSame(newest, acquire(f.pool()).leased, "the most recently used one stays");
    assertFalse(oldest.channel().isOpen());
  }

  @Test
  void aNodeWhoseLeaseLapsedRetiresWhatIsOverTheFloorBeforeItUsesAPooledConnection() throws Exception {
    PoolFixture f = new PoolFixture(1, "{\"name\":\"up\",\"endpoints\":[\"b:1\"],\"pool\":{\"maxConnectionsTotal\":6}}", 3);
    for (int i = 0; i < 3; i++) {
      acquire(f.pool());
    }
    List<UpstreamConnection> connections = List.of(f.completeConnect(), f.completeConnect(), f.completeConnect());
    connections.forEach(c -> f.pool().recycle(c, -1));

    f.cluster.leaseValid = false; // frozen past the lease: no update from the cluster has reached the pools yet
    Recorder first = acquire(f.pool());
    assertSame(connections.get(2), first.leased, "the most recently used connection serves");
    assertEquals(2, f.closed(CloseReason.BUDGET), "the two over the floor closed before it was used");
    assertEquals(1, f.budget.limit());
    Recorder second = acquire(f.pool());
    assertNull(second.leased, "nothing is opened beyond the floor");
    assertTrue(f.connects.isEmpty(), "no connect was asked for");

    f.cluster.leaseValid = true; // renewed: the cluster's update reaches the budget
    f.budget.resplit();
    f.pool().recycle(first.leased, -1);
    assertSame(connections.get(2), second.leased, "the waiter gets the released connection");
  }

  @Test
  void anEjectionClosesIdleConnectionsAndReleasesWaiters() throws Exception {
    PoolFixture f = new PoolFixture("{\"maxConnectionsPerEndpoint\":1}");
    acquire(f.pool());
    UpstreamConnection leased = f.completeConnect();
    Recorder waiter = acquire(f.pool());
    for (int i = 0; i < 3; i++) {
      f.endpoint.health().onFailure("test failure");
    }
    assertFalse(f.endpoint.health().healthy());
    assertEquals(PoolFailure.Kind.UNHEALTHY, waiter.failure.kind(), "the waiter is free to try another endpoint");
    f.pool().recycle(leased, -1);
    assertEquals(1, f.pool().idle(), "an exchange in flight finishes");
    assertEquals(PoolFailure.Kind.UNHEALTHY, acquire(f.pool()).failure.kind(), "no new request goes there");
  }

  @Test
  void aFailedConnectFailsOneWaiterAndCountsAgainstTheEndpoint() throws Exception {
    PoolFixture f = new PoolFixture("{}");
    Recorder waiter = acquire(f.pool());
    f.failConnect("Connection refused");
    assertEquals(PoolFailure.Kind.CONNECT_FAILED, waiter.failure.kind());
    assertEquals(1, f.endpoint.stats().connectFailures());
    assertEquals(0, f.endpoint.permitsTakenForTest(), "the permit came back");
  }

  @Test
  void anIdleConnectionTheBackendClosesLeavesThePoolAtOnceCountedAsUpstreamClosed() throws Exception {
    PoolFixture f = new PoolFixture("{}");
    acquire(f.pool());
    UpstreamConnection connection = f.completeConnect();
    f.pool().recycle(connection, -1);
    connection.channel().close(); // as an EOF would
    assertEquals(0, f.pool().idle());
    assertEquals(1, f.closed(CloseReason.UPSTREAM_CLOSED));
    assertEquals(0, f.endpoint.permitsTakenForTest());
  }

  @Test
  void theEndpointLimitHoldsAcrossLoopsAndIdleCapacityMovesToTheLoopThatWaits() throws Exception {
    PoolFixture f = new PoolFixture(2,
        "{\"name\":\"up\",\"endpoints\":[\"b:1\"],\"pool\":{\"maxConnectionsPerEndpoint\":2}}", 0);
    LoopPool a = f.endpoint.pool(0);
    LoopPool b = f.endpoint.pool(1);
    acquire(a);
    acquire(a);
    UpstreamConnection first = f.completeConnect();
    UpstreamConnection second = f.completeConnect();
    a.recycle(first, -1);
    a.recycle(second, -1);
    assertEquals(2, f.openChannels());

    Recorder waiter = acquire(b);
    assertEquals(1, f.closed(CloseReason.REBALANCED), "loop A gave up its least recently used idle connection");
    assertFalse(first.channel().isOpen());
    assertEquals(1, f.connects.size(), "loop B opens one in its place");
    UpstreamConnection moved = f.completeConnect();
    assertSame(moved, waiter.leased);
    assertEquals(2, f.openChannels(), "never more than maxConnectionsPerEndpoint");
    assertEquals(2, f.endpoint.permitsTakenForTest());
  }

  @Test
  void aLoopGivesUpItsLastIdleConnectionOnlyOnceARequestElsewhereStarves() throws Exception {
    PoolFixture f = new PoolFixture(2,
        "{\"name\":\"up\",\"endpoints\":[\"b:1\"],\"pool\":{\"maxConnectionsPerEndpoint\":1}}", 0);
    LoopPool a = f.endpoint.pool(0);
    LoopPool b = f.endpoint.pool(1);
    acquire(a);
    UpstreamConnection only = f.completeConnect();
    a.recycle(only, -1);

    Recorder waiter = acquire(b);
    assertTrue(only.channel().isOpen(), "loop A keeps its only connection while B has just started waiting");
    f.advance(Duration.ofMillis(249));
    f.tick();
    assertTrue(only.channel().isOpen());
    f.advance(Duration.ofMillis(1));
    f.tick();
    assertFalse(only.channel().isOpen(), "after 250 ms of waiting, loop B starves: A gives its idle connection up");
    assertEquals(1, f.closed(CloseReason.REBALANCED));
    assertSame(f.completeConnect(), waiter.leased);
  }

  @Test
  void noConnectionMovesWhileEachLoopsOwnConnectionsKeepUp() throws Exception {
    PoolFixture f = new PoolFixture(2,
        "{\"name\":\"up\",\"endpoints\":[\"b:1\"],\"pool\":{\"maxConnectionsPerEndpoint\":2}}", 0);
    LoopPool a = f.endpoint.pool(0);
    LoopPool b = f.endpoint.pool(1);
    acquire(a);
    UpstreamConnection busy = f.completeConnect();
    acquire(b);
    b.recycle(f.completeConnect(), -1); // loop B: one idle connection

    Recorder waiter = acquire(a); // loop A's own connection is busy; no permit left
    f.advance(Duration.ofMillis(100));
    f.tick();
    a.recycle(busy, -1);
    assertSame(busy, waiter.leased, "served by its own loop's connection");
    assertEquals(0, f.closed(CloseReason.REBALANCED));
    assertEquals(1, b.idle());
  }

  @Test
  void closingThePoolClosesIdleConnectionsNowAndLeasedOnesWhenTheirExchangeEnds() throws Exception {
    PoolFixture f = new PoolFixture("{}");
    acquire(f.pool());
    acquire(f.pool());
    UpstreamConnection idle = f.completeConnect();
    UpstreamConnection leased = f.completeConnect();
    f.pool().recycle(idle, -1);
    CompletableFuture<Void> closed = f.pool().close(CloseReason.SHUTDOWN);
    assertFalse(idle.channel().isOpen());
    assertFalse(closed.isDone(), "an exchange is still in flight");
    assertEquals(PoolFailure.Kind.CLOSED, acquire(f.pool()).failure.kind());
    f.pool().recycle(leased, -1);
    assertTrue(closed.isDone());
    assertEquals(2, f.closed(CloseReason.SHUTDOWN));
  }
}
