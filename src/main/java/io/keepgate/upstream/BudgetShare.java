package io.keepgate.upstream;

import io.keepgate.cluster.ClusterState;

/**
 * This node's share of an upstream's {@code maxConnectionsTotal}: permits whose limit follows the
 * cluster's split, and falls to the floor as soon as this node's lease on its shares lapses. The
 * lapse is checked on the request path ({@link #lapsed}) before a pooled connection is used or a
 * new one opened, so a node that resumes after a freeze uses nothing the others may have taken
 * over, even before the cluster's next update reaches the pools.
 *
 * <p>Threading: any thread; the permits are lock-free and the cluster's reads are local.
 */
final class BudgetShare {
  private final int total;
  private final ClusterState cluster;
  private final ConnectionPermits permits;

  private BudgetShare(int total, ClusterState cluster, ConnectionPermits permits) {
    this.total = total;
    this.cluster = cluster;
    this.permits = permits;
  }

  /** {@code total} connections split across the cluster; 0 means no budget. */
  static BudgetShare of(int total, ClusterState cluster) {
    return new BudgetShare(total, cluster,
        total > 0 ? new ConnectionPermits(cluster.shareOf(total)) : ConnectionPermits.UNLIMITED);
  }

  boolean limited() {
    return total > 0;
  }

  boolean tryTake(LoopPool pool) {
    lapsed();
    return permits.tryTake(pool);
  }

  void give() {
    permits.give();
  }

  /** Whether more connections are open than the share allows: idle ones should retire. */
  boolean over() {
    return permits.over();
  }

  int limit() {
    return permits.limit();
  }

  int taken() {
    return permits.taken();
  }

  /**
   * Whether this node's lease has lapsed: the share falls to the floor now, and the caller
   * retires idle connections while {@link #over}. Cheap when the lease holds: one volatile read.
   */
  boolean lapsed() {
    if (!limited() || cluster.leaseValid()) {
      return false;
    }
    permits.setLimit(cluster.shareOf(total));
    return true;
  }

  /** Takes the cluster's current split; returns whether the share shrank. */
  boolean resplit() {
    return limited() && permits.setLimit(cluster.shareOf(total));
  }
}
