package io.keepgate.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.keepgate.upstream.PoolFixture.Recorder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The pool learns a backend's HTTP keep-alive timeout from the connections the backend closes, on a
 * virtual clock: idle connections it closed, and reused ones it closed before answering (the race).
 * Each test asserts the idle timeout on both sides of its new deadline.
 */
class KeepAliveLearningTest {
  private static final String KEY = "up|backend:9000";

  /** A connection opened, used once and idle from now; returned idle in the pool. */
  private static UpstreamConnection idleConnection(PoolFixture f) {
    Recorder waiter = new Recorder();
    f.pool().acquire(waiter);
    UpstreamConnection connection = f.completeConnect();
    assertSame(connection, waiter.leased);
    f.pool().recycle(connection, -1);
    return connection;
  }

  /** The backend closes a connection after it sat idle for {@code idle}. */
  private static void backendClosesIdle(PoolFixture f, Duration idle) {
    UpstreamConnection connection = idleConnection(f);
    f.advance(idle);
    connection.channel().close(); // EOF from the backend's side, before keepgate's own deadline
  }

  /** Whether an idle connection is still pooled {@code after} idling, swept then. */
  private static boolean keptAfter(PoolFixture f, Duration after) {
    idleConnection(f);
    f.advance(after);
    f.tick();
    return f.pool().idle() == 1;
  }

  @Test
  void threeIdleClosesAtThreeSecondsSetTheIdleTimeoutSafelyBelowIt() throws Exception {
    PoolFixture f = new PoolFixture("{\"idleTimeoutMs\":30000}");
    backendClosesIdle(f, Duration.ofSeconds(3));
    backendClosesIdle(f, Duration.ofSeconds(3));
    assertEquals(30.0, f.endpoint.stats().idleTimeoutSeconds(), "two closes are not yet a timeout");
    backendClosesIdle(f, Duration.ofMillis(3400));

    assertEquals(2.25, f.endpoint.stats().idleTimeoutSeconds(), 1e-9, "the median 3 s less a quarter of it");
    assertEquals(3000, f.endpoint.stats().backendKeepAliveTimeoutMillis());
    assertEquals("learned", f.endpoint.stats().idleTimeoutSource());
    assertEquals(3, f.endpoint.stats().idleClosesByBackend());
    assertEquals(Map.of(KEY, 3000L), f.cluster.keepAliveTimeouts, "told to the cluster");

    UpstreamConnection next = idleConnection(f);
    f.advance(Duration.ofMillis(2249));
    f.tick();
    assertEquals(1, f.pool().idle(), "2249 ms idle: kept");
    f.advance(Duration.ofMillis(1));
    f.tick();
    assertEquals(0, f.pool().idle(), "2250 ms: keepgate closes first");
    assertEquals(CloseReason.IDLE_TIMEOUT, next.closeReason());
  }

  @Test
  void oneEarlyCloseDoesNotCollapseTheIdleTimeoutAndClosesBelowTheFloorAreNoTimeout() throws Exception {
    PoolFixture f = new PoolFixture("{\"idleTimeoutMs\":30000,\"keepAliveLearning\":{\"minIdleTimeoutMs\":1000}}");
    backendClosesIdle(f, Duration.ofMillis(200)); // a restart, or a request limit: below the floor
    backendClosesIdle(f, Duration.ofSeconds(10));
    backendClosesIdle(f, Duration.ofMillis(1500)); // early, but above the floor
    backendClosesIdle(f, Duration.ofSeconds(10));
    assertEquals(4, f.endpoint.stats().idleClosesByBackend(), "all four counted");
    assertEquals(10_000, f.endpoint.stats().backendKeepAliveTimeoutMillis(), "the median of 1.5, 10 and 10 s");
    assertEquals(9.0, f.endpoint.stats().idleTimeoutSeconds(), 1e-9, "10 s less the 1 s margin");
  }

  @Test
  void aRestartThatClosesEveryIdleConnectionAtOnceCountsOnce() throws Exception {
    PoolFixture f = new PoolFixture("{\"idleTimeoutMs\":30000}");
    List<UpstreamConnection> idle = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      Recorder waiter = new Recorder();
      f.pool().acquire(waiter); // five requests at once: five connections
      idle.add(f.completeConnect());
    }
    for (int i = 0; i < 5; i++) { // released in turn: idle 25, 20, 15, 8 and 2 s when the restart comes
      f.pool().recycle(idle.get(i), -1);
      f.advance(Duration.ofSeconds(new long[] {5, 5, 7, 6, 2}[i]));
    }
    idle.forEach(connection -> connection.channel().close()); // the backend restarts
    assertEquals(5, f.endpoint.stats().idleClosesByBackend(), "every close counted");
    assertEquals(-1, f.endpoint.stats().backendKeepAliveTimeoutMillis(), "but one observation, not five");

    backendClosesIdle(f, Duration.ofSeconds(10));
    backendClosesIdle(f, Duration.ofSeconds(10));
    assertEquals(10_000, f.endpoint.stats().backendKeepAliveTimeoutMillis(), "the median of 25 (the burst), 10 and 10 s");
  }

  @Test
  void aReusedConnectionClosedBeforeAnyResponseByteTellsItsIdleAgeAtLease() throws Exception {
    PoolFixture f = new PoolFixture("{\"idleTimeoutMs\":30000}");
    for (int i = 0; i < 3; i++) {
      UpstreamConnection connection = idleConnection(f);
      f.advance(Duration.ofMillis(4000));
      Recorder reuse = new Recorder();
      f.pool().acquire(reuse);
      assertSame(connection, reuse.leased, "reused after 4 s idle");
      connection.channel().close(); // the backend's close crossed the request
    }
    assertEquals(3, f.endpoint.stats().reuseClosesByBackend());
    assertEquals(4000, f.endpoint.stats().backendKeepAliveTimeoutMillis());
    assertEquals(3.0, f.endpoint.stats().idleTimeoutSeconds(), 1e-9);
  }

  @Test
  void anAnnouncedTimeoutWinsForItsConnection() throws Exception {
    PoolFixture f = new PoolFixture("{\"idleTimeoutMs\":30000}");
    f.endpoint.adoptClusterKeepAlive(3000);
    Recorder waiter = new Recorder();
    f.pool().acquire(waiter);
    UpstreamConnection announced = f.completeConnect();
    f.pool().recycle(announced, 10); // Keep-Alive: timeout=10
    f.advance(Duration.ofMillis(8999));
    f.tick();
    assertEquals(1, f.pool().idle(), "the backend said 10 s: closed 1 s before, not at the learned 2.25 s");
    f.advance(Duration.ofMillis(1));
    f.tick();
    assertEquals(0, f.pool().idle());
  }

  @Test
  void theClustersValueAppliesWithoutACloseSeenHereAndNeverAboveTheConfiguredTimeout() throws Exception {
    for (long idleMillis : new long[] {2249, 2250}) {
      PoolFixture f = new PoolFixture("{\"idleTimeoutMs\":30000}");
      f.endpoint.adoptClusterKeepAlive(3000);
      assertEquals("cluster", f.endpoint.stats().idleTimeoutSource());
      assertEquals(idleMillis < 2250, keptAfter(f, Duration.ofMillis(idleMillis)), idleMillis + " ms idle");
    }

    PoolFixture shorter = new PoolFixture("{\"idleTimeoutMs\":2000}");
    shorter.endpoint.adoptClusterKeepAlive(60_000);
    assertEquals(2.0, shorter.endpoint.stats().idleTimeoutSeconds(), 1e-9, "idleTimeoutMs stays the ceiling");
  }

  @Test
  void learningOffKeepsTheConfiguredTimeout() throws Exception {
    PoolFixture f = new PoolFixture("{\"idleTimeoutMs\":30000,\"keepAliveLearning\":{\"enabled\":false}}");
    for (int i = 0; i < 5; i++) {
      backendClosesIdle(f, Duration.ofSeconds(3));
    }
    f.endpoint.adoptClusterKeepAlive(3000);
    assertEquals(30.0, f.endpoint.stats().idleTimeoutSeconds(), 1e-9);
    assertEquals(-1, f.endpoint.stats().backendKeepAliveTimeoutMillis());
    assertEquals(Map.of(), f.cluster.keepAliveTimeouts);
  }
}
