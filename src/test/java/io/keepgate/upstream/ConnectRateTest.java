package io.keepgate.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.cluster.ClusterState;
import io.keepgate.config.ConnectRateConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The token bucket behind {@code pool.connectRate}, on a clock the test sets: each member's part of
 * the cluster-wide rate and burst, a take refused with the wait until the next token, and, over any
 * window, the members together never above the rate times the window plus their buckets.
 */
class ConnectRateTest {
  private long nowNanos = 5_000_000_000L;
  private int members = 1;
  private int index;
  private boolean leaseValid = true;

  private ConnectRate rate(int perSecond, int burst) {
    return rate(perSecond, burst, 0);
  }

  /** The bucket of member {@code member} of {@link #members}, split as the cluster splits budgets. */
  private ConnectRate rate(int perSecond, int burst, int member) {
    return new ConnectRate(new ConnectRateConfig(perSecond, burst),
        total -> leaseValid ? ClusterState.share(total, members, member) : Math.min(total, 1),
        () -> leaseValid, () -> nowNanos);
  }

  private void advance(Duration by) {
    nowNanos += by.toNanos();
  }

  @Test
  void aFullBucketGrantsTheBurstAtOnceThenOneConnectPerIntervalAndSaysHowLongToWait() {
    ConnectRate rate = rate(10, 3);
    assertEquals(0, rate.tryTake());
    assertEquals(0, rate.tryTake());
    assertEquals(0, rate.tryTake());
    assertEquals(Duration.ofMillis(100).toNanos(), rate.tryTake(), "empty: the next token in 1/10 s");
    advance(Duration.ofMillis(99));
    assertEquals(Duration.ofMillis(1).toNanos(), rate.tryTake(), 2, "99 ms on: 1 ms to go");
    advance(Duration.ofMillis(1));
    assertEquals(0, rate.tryTake(), "100 ms: one token");
    assertTrue(rate.tryTake() > 0);
    advance(Duration.ofSeconds(60));
    for (int i = 0; i < 3; i++) {
      assertEquals(0, rate.tryTake(), "a minute idle refills the bucket to its burst, no more");
    }
    assertTrue(rate.tryTake() > 0);
  }

  @Test
  void eachMemberGetsItsPartOfTheRateAndBurstAndThePartsAddUpToTheClusterRate() {
    members = 3;
    List<ConnectRate> buckets = List.of(rate(10, 6, 0), rate(10, 6, 1), rate(10, 6, 2));
    assertEquals(3.334, buckets.get(0).perSecond(), 1e-9);
    assertEquals(3.333, buckets.get(1).perSecond(), 1e-9);
    assertEquals(3.333, buckets.get(2).perSecond(), 1e-9);
    assertEquals(10.0, buckets.stream().mapToDouble(ConnectRate::perSecond).sum(), 1e-9);
    assertEquals(2.0, buckets.get(0).capacity(buckets.get(0).perSecond()), 1e-9, "a burst of 6 among 3: 2 each");

    members = 2;
    assertEquals(5.0, buckets.get(0).perSecond(), 1e-9, "a member left the basis: the split follows at once");
  }

  @Test
  void everyMemberCanConnectEvenWhenTheRateAndBurstAreBelowTheMemberCount() {
    members = 5;
    ConnectRate rate = rate(2, 1, 4);
    assertEquals(0.4, rate.perSecond(), 1e-9);
    assertEquals(1.0, rate.capacity(rate.perSecond()), 1e-9, "a bucket holds at least one token");
    assertEquals(0, rate.tryTake());
    assertEquals(Duration.ofMillis(2500).toNanos(), rate.tryTake(), "then one every 2.5 s");
  }

  @Test
  void aBucketHoldsAtLeastOneTicksWorthOfItsRateSoTheTickRetryDoesNotCapIt() {
    ConnectRate rate = rate(1000, 1);
    assertEquals(25.0, rate.capacity(rate.perSecond()), 1e-9, "1000/s x 25 ms");
  }

  @Test
  void aNodeWhoseLeaseLapsedFallsBackToOneConnectPerSecond() {
    members = 3;
    ConnectRate rate = rate(30, 9);
    assertEquals(10.0, rate.perSecond(), 1e-9);
    assertEquals(0, rate.tryTake());
    leaseValid = false;
    assertEquals(1.0, rate.perSecond(), 1e-9);
    assertEquals(1.0, rate.capacity(rate.perSecond()), 1e-9);
    assertEquals(0, rate.tryTake(), "two tokens left, clipped to the lapsed bucket's one");
    assertEquals(Duration.ofSeconds(1).toNanos(), rate.tryTake());
  }

  @Test
  void aRefundedTokenIsTakenAgainAndNeverOverfillsTheBucket() {
    ConnectRate rate = rate(1, 1);
    assertEquals(0, rate.tryTake());
    assertTrue(rate.tryTake() > 0);
    rate.refund();
    assertEquals(0, rate.tryTake(), "the refunded token");
    rate.refund();
    rate.refund();
    assertEquals(1.0, rate.tokens(), 1e-9, "never above the bucket's size");
  }

  @Test
  void anUnpacedRateGrantsEveryTake() {
    ConnectRate rate = ConnectRate.UNPACED;
    for (int i = 0; i < 1000; i++) {
      assertEquals(0, rate.tryTake());
    }
    assertEquals(0.0, rate.perSecond());
  }

  /**
   * The cluster-wide bound: three members taking as fast as their buckets allow, at random moments,
   * never start more than {@code perSecond * t + burst} connects in any window of {@code t} seconds.
   */
  @Test
  void membersTakingAtRandomMomentsStayWithinTheClusterRatePlusBurstOverEveryWindow() {
    members = 3;
    int perSecond = 10;
    int burst = 6;
    List<ConnectRate> buckets = List.of(rate(perSecond, burst, 0), rate(perSecond, burst, 1), rate(perSecond, burst, 2));
    Random random = new Random(42);
    List<Long> granted = new ArrayList<>();
    long end = nowNanos + Duration.ofSeconds(60).toNanos();
    while (nowNanos < end) {
      advance(Duration.ofNanos(random.nextInt(20_000_000))); // up to 20 ms between attempts
      for (ConnectRate bucket : buckets) {
        while (bucket.tryTake() == 0) {
          granted.add(nowNanos);
        }
      }
    }
    for (Duration window : List.of(Duration.ofMillis(100), Duration.ofSeconds(1), Duration.ofSeconds(5))) {
      int most = 0;
      for (int i = 0, j = 0; i < granted.size(); i++) {
        while (granted.get(i) - granted.get(j) >= window.toNanos()) {
          j++;
        }
        most = Math.max(most, i - j + 1);
      }
      double bound = perSecond * window.toNanos() / 1e9 + burst;
      assertTrue(most <= bound, window + ": " + most + " connects, bound " + bound);
    }
    assertTrue(granted.size() >= 60 * perSecond, "and the rate is used: " + granted.size() + " in 60 s");
  }
}
