package io.keepgate.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * This node's hold on its shares of the cluster-wide budgets ({@code maxConnectionsTotal}): the
 * members a budget is split among (the <em>basis</em>), and until when this node may use its part
 * (the <em>lease</em>). The failure detector cannot tell a crashed member from a frozen or
 * partitioned one, and a frozen member's sockets stay open at the backend, so a member that leaves
 * the view keeps its share until it is known gone:
 *
 * <ul>
 *   <li>a member that joins the view joins the basis at once (every share shrinks at once);</li>
 *   <li>a member that leaves the view stays in the basis until its process is known dead (its
 *       cluster port refused a connection: the kernel has closed its sockets, backend ones too),
 *       or until this side holds a strict majority of the basis and the member has been out of
 *       view for {@code lease + TAKEOVER_MARGIN}: by then the member's own lease has lapsed,
 *       wherever it is, because a member renews only while it is not in a minority;</li>
 *   <li>the lease is renewed on every {@link #update} while this node is not in a minority of its
 *       basis and has not just resumed from a pause; a node that was stopped (SIGSTOP, a long GC)
 *       first gives the failure detector {@link #SETTLE} to show what changed meanwhile;</li>
 *   <li>a lapsed lease leaves each budget at {@link #FLOOR} connection, so a node cut off from the
 *       cluster still serves, and the backend holds at most the budget plus one per node.</li>
 * </ul>
 *
 * A tie (two members split one against one) takes nothing over: both keep their shares, since
 * neither side can tell whether the other is dead or serving.
 *
 * <p>Threading: {@link #update} and {@link #gone} are synchronized (the cluster's scheduler and
 * Hazelcast's event threads); {@link #shareOf} and {@link #valid} read one volatile grant and are
 * safe from the event loops.
 */
final class ShareLease {
  /** Connections a node keeps per budget while its lease has lapsed. */
  static final int FLOOR = 1;
  /** Slack over the lease before a take-over: failure detectors on either side fire up to ~2 s apart. */
  static final Duration TAKEOVER_MARGIN = Duration.ofSeconds(3);
  /** A gap between updates longer than this means this node was stopped. */
  static final Duration PAUSE = Duration.ofSeconds(2);
  /** After a pause, no renewal for this long: the failure detector's timeout (5 s) plus a tick. */
  static final Duration SETTLE = Duration.ofSeconds(6);

  /** What the request path reads: the basis, this node's place in it, and the lease's end. */
  private record Grant(int members, int index, long validUntil) {}

  private final long leaseNanos;
  private final long takeoverNanos;
  private final TreeSet<String> basis = new TreeSet<>();
  /** Members of the basis out of view, with the time they left it. */
  private final Map<String, Long> departed = new HashMap<>();
  private String self;
  private long lastUpdate;
  private long settledAt;
  private boolean wasValid = true;
  private volatile Grant grant;

  /** A lease granted at {@code now} to {@code self} on the members of {@code view}. */
  ShareLease(Duration lease, String self, Collection<String> view, long now) {
    this.leaseNanos = lease.toNanos();
    this.takeoverNanos = leaseNanos + TAKEOVER_MARGIN.toNanos();
    this.self = self;
    this.basis.addAll(view);
    this.basis.add(self);
    this.lastUpdate = now;
    this.settledAt = now;
    this.grant = grant(now + leaseNanos);
  }

  /** This node's part of {@code total} at {@code now}: its share while the lease holds, else the floor. */
  int shareOf(int total, long now) {
    Grant current = grant;
    if (now - current.validUntil >= 0) {
      return Math.min(total, FLOOR);
    }
    return ClusterState.share(total, current.members, current.index);
  }

  boolean valid(long now) {
    return now - grant.validUntil < 0;
  }

  /** Nanoseconds the lease still runs at {@code now}; zero or less when it has lapsed. */
  long remaining(long now) {
    return grant.validUntil - now;
  }

  /**
   * The view as the failure detector sees it at {@code now} ({@code self} may change: a member
   * that merges back after a split gets a new identity). Renews the lease or lets it run out, and
   * takes over departed members' shares when that is safe. Returns whether any share may have changed.
   */
  synchronized boolean update(long now, String self, Collection<String> view) {
    if (now - lastUpdate > PAUSE.toNanos()) {
      settledAt = now + SETTLE.toNanos();
    }
    lastUpdate = now;
    boolean changed = false;
    if (!self.equals(this.self)) {
      basis.remove(this.self);
      departed.remove(this.self);
      this.self = self;
      changed = basis.add(self);
    }
    for (String member : view) {
      departed.remove(member);
      changed |= basis.add(member);
    }
    for (String member : basis) {
      if (!view.contains(member) && !member.equals(self)) {
        departed.putIfAbsent(member, now);
      }
    }
    boolean settled = now - settledAt >= 0;
    int inView = basis.size() - departed.size();
    if (settled && 2 * inView > basis.size()) {
      for (String member : List.copyOf(departed.keySet())) {
        if (now - departed.get(member) >= takeoverNanos) {
          changed |= remove(member);
        }
      }
    }
    Grant current = grant;
    long validUntil = settled && 2 * (basis.size() - departed.size()) >= basis.size()
        ? now + leaseNanos : current.validUntil;
    grant = grant(validUntil);
    boolean valid = now - validUntil < 0;
    changed |= valid != wasValid || current.members != basis.size() || current.index != index();
    wasValid = valid;
    return changed;
  }

  /** {@code member}'s process is gone (its cluster port refused a connection): its share is free now. */
  synchronized boolean gone(String member) {
    if (!departed.containsKey(member)) {
      return false;
    }
    remove(member);
    grant = grant(grant.validUntil);
    return true;
  }

  /** Members out of view that still hold their share, for probing. */
  synchronized Set<String> departed() {
    return Set.copyOf(departed.keySet());
  }

  /** Members the budgets are split among, this node and departed ones included. */
  synchronized List<String> basis() {
    return new ArrayList<>(basis);
  }

  private boolean remove(String member) {
    departed.remove(member);
    return basis.remove(member);
  }

  private Grant grant(long validUntil) {
    return new Grant(basis.size(), index(), validUntil);
  }

  private int index() {
    return basis.headSet(self).size();
  }
}
