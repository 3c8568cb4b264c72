package io.keepgate.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The lease rules on a clock the test drives: who may use which part of a budget of 12 when
 * members join, die, freeze, or are cut off. Every update is one tick of the cluster's scheduler.
 */
class ShareLeaseTest {
  private static final Duration LEASE = Duration.ofSeconds(10);
  private static final Duration TICK = Duration.ofMillis(250);
  private static final int TOTAL = 12;

  /** One member's lease and its clock. */
  private static final class Node {
    String id;
    long now = 5_000_000_000L;
    final ShareLease lease;

    Node(String id, List<String> view) {
      this.id = id;
      this.lease = new ShareLease(LEASE, id, view, now);
    }

    /** Ticks every 250 ms for {@code duration}, seeing {@code view} throughout. */
    void run(Duration duration, List<String> view) {
      for (long t = 0; t < duration.toNanos(); t += TICK.toNanos()) {
        now += TICK.toNanos();
        lease.update(now, id, view);
      }
    }

    int share() {
      return lease.shareOf(TOTAL, now);
    }
  }

  @Test
  void aJoiningMemberShrinksEveryShareAtOnce() {
    Node a = new Node("a", List.of("a"));
    assertEquals(12, a.share());
    a.now += TICK.toNanos();
    assertTrue(a.lease.update(a.now, "a", List.of("a", "b")));
    assertEquals(6, a.share());
  }

  @Test
  void aDeadMembersShareIsTakenOverAsSoonAsItsPortRefuses() {
    Node a = new Node("a", List.of("a", "b"));
    a.run(TICK, List.of("a"));
    assertEquals(6, a.share(), "out of view is not gone: b may be frozen with its connections open");
    assertEquals(Set.of("b"), a.lease.departed());
    assertTrue(a.lease.gone("b"));
    assertEquals(12, a.share());
  }

  @Test
  void aFrozenMembersShareIsTakenOverOnlyByAMajorityAndOnlyOnceItsLeaseHasRunOut() {
    List<String> all = List.of("a", "b", "c");
    Node a = new Node("a", all);
    Node c = new Node("c", all);
    Node b = new Node("b", all);
    a.run(Duration.ofSeconds(1), all);
    b.run(Duration.ofSeconds(1), all);
    long frozenAt = b.now;

    // b stops; a and c see it leave 5 s later (the failure detector), and keep their shares meanwhile
    a.run(Duration.ofSeconds(5), all);
    List<String> survivors = List.of("a", "c");
    a.run(LEASE.plus(ShareLease.TAKEOVER_MARGIN).minus(TICK), survivors);
    assertEquals(4, a.share(), "no take-over before the frozen member's lease can have run out");
    a.run(TICK.multipliedBy(2), survivors);
    assertEquals(6, a.share(), "the majority takes over");
    assertTrue(a.now - frozenAt > LEASE.toNanos());

    // b resumes: its event loops read the lease before anything else and find it lapsed
    b.now = a.now;
    assertFalse(b.lease.valid(b.now));
    assertEquals(1, b.share(), "a member that resumes past its lease keeps one connection");
    b.now += TICK.toNanos();
    b.lease.update(b.now, "b", all); // its failure detector has not caught up yet: the view is stale
    assertEquals(1, b.share(), "no renewal on a stale view right after a pause");
    b.run(ShareLease.SETTLE, List.of("b"));
    assertEquals(1, b.share(), "alone, b is a minority: no renewal");

    // b merges back under a new identity; every share shrinks at once, b's grows once settled
    List<String> merged = List.of("a", "b2", "c");
    a.run(TICK, merged);
    assertEquals(4, a.share());
    b.id = "b2";
    b.run(TICK, merged);
    assertEquals(4, b.share());
    assertEquals(List.of("a", "b2", "c"), b.lease.basis());
  }

  @Test
  void inATieNeitherSideTakesOverAndBothKeepTheirShares() {
    List<String> both = List.of("a", "b");
    Node a = new Node("a", both);
    Node b = new Node("b", both);
    a.run(Duration.ofMinutes(2), List.of("a"));
    b.run(Duration.ofMinutes(2), List.of("b"));
    assertEquals(6, a.share());
    assertEquals(6, b.share());
    assertTrue(a.lease.valid(a.now) && b.lease.valid(b.now), "a tie keeps renewing");
  }

  @Test
  void aPartitionedMinorityRunsOutBeforeTheMajorityTakesOver() {
    List<String> all = List.of("a", "b", "c");
    Node a = new Node("a", all);
    Node b = new Node("b", all);
    // the partition begins at the same instant on both sides; b's detector fires 2 s before a's
    b.run(Duration.ofSeconds(3), all);
    b.run(LEASE, List.of("b"));
    assertEquals(1, b.share(), "the minority stops renewing and falls to the floor after one lease");
    a.run(Duration.ofSeconds(5), all);
    a.run(LEASE, List.of("a", "c"));
    assertEquals(4, a.share(), "the majority still waits: the minority may have renewed up to its detection");
    a.run(ShareLease.TAKEOVER_MARGIN.plus(TICK), List.of("a", "c"));
    assertEquals(6, a.share());
    assertFalse(b.lease.valid(a.now), "the two clocks started together: b's lease ended before a took its share");
  }

  @Test
  void afterAPauseNoRenewalUntilTheFailureDetectorHasCaughtUp() {
    Node a = new Node("a", List.of("a", "b"));
    a.now += Duration.ofSeconds(8).toNanos(); // a long GC pause, or SIGSTOP
    assertTrue(a.lease.valid(a.now), "within its lease a resumed member keeps its share");
    a.run(ShareLease.SETTLE.minus(TICK), List.of("a", "b"));
    assertFalse(a.lease.valid(a.now), "not renewed while settling: the lease of 10 s ran out");
    a.run(TICK.multipliedBy(2), List.of("a", "b"));
    assertTrue(a.lease.valid(a.now));
    assertEquals(6, a.share());
  }
}
