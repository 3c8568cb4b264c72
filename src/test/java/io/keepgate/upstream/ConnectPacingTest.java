package io.keepgate.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.upstream.PoolFixture.Recorder;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Pools under {@code pool.connectRate} and the warm hand-off, without sockets: connects completed
 * by hand, time advanced by hand, ticks fired by hand. A pool refused a token keeps its waiters,
 * opens when a tick finds the next token due (never before), spends tokens on failed connects, and
 * asks no other loop for a connection; a warm hand-off opens connections ahead of requests on every
 * loop, paced and within the limits.
 */
class ConnectPacingTest {

  /** An endpoint with {@code loops} pools, its pool settings {@code poolJson}, paced on the fixture's clock. */
  private static PoolFixture paced(int loops, String poolJson) throws Exception {
    PoolFixture f = new PoolFixture(loops, "{\"name\":\"up\",\"endpoints\":[\"b:1\"],\"pool\":" + poolJson + "}", 0);
    f.endpoint.paceConnects(new ConnectRate(f.endpoint.config().pool().connectRate(), total -> total, () -> true,
        f.ticker));
    return f;
  }

  private static Recorder acquire(LoopPool pool) {
    Recorder waiter = new Recorder();
    pool.acquire(waiter);
    return waiter;
  }

  @Test
  void aPoolRefusedATokenKeepsItsWaitersAndOpensWhenATickFindsTheNextTokenDue() throws Exception {
    PoolFixture f = paced(1, "{\"connectRate\":{\"perSecond\":10,\"burst\":1}}");
    Recorder first = acquire(f.pool());
    Recorder second = acquire(f.pool());
    Recorder third = acquire(f.pool());
    assertEquals(1, f.connects.size(), "one token: one connect; the others wait for the rate");
    assertEquals(3, f.pool().pending());

    f.advance(Duration.ofMillis(99));
    f.tick();
    assertEquals(1, f.connects.size(), "99 ms: no token yet");
    f.advance(Duration.ofMillis(1));
    f.tick();
    assertEquals(2, f.connects.size(), "100 ms: the next token, taken on the tick");
    assertEquals(1, f.endpoint.stats().connectsPaced(), "counted as a connect that waited for the rate");

    assertSame(f.completeConnect(), first.leased);
    assertSame(f.completeConnect(), second.leased);
    assertNull(third.leased);
    f.advance(Duration.ofMillis(100));
    f.tick();
    assertSame(f.completeConnect(), third.leased);
    assertEquals(2, f.endpoint.stats().connectsPaced());
    assertEquals(10.0, f.endpoint.stats().connectRate(), 1e-9);
  }

  @Test
  void aWaiterStillTimesOutAfterPendingTimeoutWhileItsConnectWaitsForTheRate() throws Exception {
    PoolFixture f = paced(1, "{\"pendingTimeoutMs\":500,\"connectRate\":{\"perSecond\":1,\"burst\":1}}");
    acquire(f.pool());
    Recorder waiter = acquire(f.pool());
    f.advance(Duration.ofMillis(500));
    f.tick();
    assertEquals(PoolFailure.Kind.PENDING_TIMEOUT, waiter.failure.kind());
    f.advance(Duration.ofMillis(500));
    f.tick();
    assertEquals(1, f.connects.size(), "nobody waits any more: the due token opens nothing");
    assertEquals(0, f.endpoint.stats().connectsPaced());
  }

  @Test
  void aFailedConnectSpendsItsTokenSoARestartingBackendIsNotHammered() throws Exception {
    PoolFixture f = paced(1, "{\"connectRate\":{\"perSecond\":1,\"burst\":1}}");
    Recorder refused = acquire(f.pool());
    f.failConnect("Connection refused");
    assertEquals(PoolFailure.Kind.CONNECT_FAILED, refused.failure.kind());
    Recorder next = acquire(f.pool());
    assertEquals(0, f.connects.size(), "the failed attempt took the token");
    f.advance(Duration.ofMillis(999));
    f.tick();
    assertEquals(0, f.connects.size());
    f.advance(Duration.ofMillis(1));
    f.tick();
    assertSame(f.completeConnect(), next.leased);
  }

  @Test
  void aLoopWaitingForTheRateAsksNoOtherLoopToGiveUpAConnection() throws Exception {
    PoolFixture f = paced(2, "{\"connectRate\":{\"perSecond\":1,\"burst\":1}}");
    LoopPool a = f.endpoint.pool(0);
    LoopPool b = f.endpoint.pool(1);
    acquire(a);
    a.recycle(f.completeConnect(), -1); // loop A: one idle connection, the only token spent

    Recorder waiter = acquire(b);
    f.advance(Duration.ofMillis(300));
    f.tick();
    assertEquals(0, f.closed(CloseReason.REBALANCED), "past the starvation delay, but a token is what B lacks");
    assertEquals(1, a.idle());
    f.advance(Duration.ofMillis(700));
    f.tick();
    assertSame(f.completeConnect(), waiter.leased, "B opens its own when the next token is due");
  }

  @Test
  void aWarmHandOffOpensConnectionsOnEveryLoopAheadOfRequestsAndLeavesThemIdle() throws Exception {
    PoolFixture f = paced(2, "{}");
    Progress progress = new Progress();
    f.endpoint.warm(3, progress);
    assertEquals(3, f.connects.size());
    for (int i = 0; i < 3; i++) {
      f.completeConnect();
    }
    assertEquals(2, f.endpoint.pool(0).idle());
    assertEquals(1, f.endpoint.pool(1).idle());
    assertEquals(3, progress.opened.get());
    assertEquals(3, f.endpoint.stats().warmupConnections());
    assertEquals(3, f.endpoint.stats().warmupTarget());

    Recorder first = acquire(f.endpoint.pool(1));
    assertTrue(first.leased.reused(), "a pool hit, as the access log and the keep-alive race retry see it");
    assertEquals(0, f.connects.size(), "the first request finds a warm connection");
    assertEquals(3, f.endpoint.stats().opened());
  }

  @Test
  void aWarmHandOffWhoseConnectsCompleteWithinTheCallOpensExactlyItsTarget() throws Exception {
    PoolFixture f = paced(2, "{}");
    f.connectsCompleteAtOnce = true; // a loopback connect may succeed inside connect()
    Progress progress = new Progress();
    f.endpoint.warm(6, progress);
    assertEquals(6, f.endpoint.stats().opened(), "no more than asked for");
    assertEquals(6, progress.opened.get(), "each one counted as warm");
    assertEquals(3, f.endpoint.pool(0).idle());
    assertEquals(3, f.endpoint.pool(1).idle());
  }

  @Test
  void aWarmHandOffIsPacedByTheRateAndSkipsWhatTheLimitLeavesNoRoomFor() throws Exception {
    PoolFixture f = paced(1, "{\"maxConnectionsPerEndpoint\":2,\"connectRate\":{\"perSecond\":10,\"burst\":1}}");
    Progress progress = new Progress();
    f.endpoint.warm(4, progress);
    assertEquals(1, f.connects.size(), "one token");
    f.completeConnect();
    f.advance(Duration.ofMillis(100));
    f.tick();
    assertEquals(1, f.connects.size(), "the next on the tick a token is due");
    f.completeConnect();
    f.advance(Duration.ofMillis(100));
    f.tick();
    assertEquals(0, f.connects.size(), "maxConnectionsPerEndpoint reached");
    assertEquals(2, progress.opened.get());
    assertEquals(2, progress.skipped.get(), "the rest will not open: the hand-off is told");
    assertEquals(2, f.pool().idle());
  }

  @Test
  void aWarmConnectThatFailsIsToldAndStoppingTheHandOffSkipsTheRest() throws Exception {
    PoolFixture f = paced(1, "{\"connectRate\":{\"perSecond\":1,\"burst\":1}}");
    Progress progress = new Progress();
    f.endpoint.warm(3, progress);
    f.failConnect("Connection refused");
    assertEquals(1, progress.failed.get());
    f.endpoint.stopWarming();
    assertEquals(2, progress.skipped.get());
    f.advance(Duration.ofSeconds(5));
    f.tick();
    assertEquals(0, f.connects.size(), "nothing more opens after the hand-off stopped");
  }

  /** Counts what a warm hand-off is told. */
  private static final class Progress implements Warmup.Progress {
    final AtomicInteger opened = new AtomicInteger();
    final AtomicInteger failed = new AtomicInteger();
    final AtomicInteger skipped = new AtomicInteger();

    @Override
    public void opened() {
      opened.incrementAndGet();
    }

    @Override
    public void failed() {
      failed.incrementAndGet();
    }

    @Override
    public void skipped(int count) {
      skipped.addAndGet(count);
    }
  }
}
