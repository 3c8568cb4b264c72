package io.keepgate.cluster;

import io.vertx.core.json.JsonObject;
import java.util.function.Supplier;

/**
 * What a keepgate node shares with its peers: endpoint health verdicts, the backends' learned
 * keep-alive timeouts, pool snapshots, and the split of cluster-wide connection budgets among live members.
 *
 * <p>Threading: every method is safe from any thread and never blocks: reads come from local
 * copies kept current by listeners, writes are asynchronous. The request path only calls
 * {@link #shareOf}, {@link #leaseValid}, {@link #ownsProbe} and {@link #keepAliveTimeoutMillis}, all local.
 */
public interface ClusterState {

  /** A backend keep-alive timeout learned by any node, this one included. */
  interface KeepAliveListener {
    void onKeepAliveTimeout(String upstream, String endpoint, long millis);
  }

  /** A verdict on one endpoint from any node, this one included. */
  interface HealthListener {
    void onVerdict(String upstream, String endpoint, boolean healthy);
  }

  /**
   * This node's share of a cluster-wide budget: {@code total} split among the members that hold
   * shares, remainders spread; one connection while this node's lease on its shares has lapsed.
   */
  int shareOf(int total);

  /**
   * Whether this node's lease on its shares holds now. A node that was frozen or cut off from the
   * majority finds it lapsed, and must fall back to one connection per budget before it uses a
   * pooled connection: the others may have taken its share over.
   */
  boolean leaseValid();

  /** Number of live members, this one included. */
  int memberCount();

  /** Whether this node runs the active probe of an endpoint (one node per endpoint cluster-wide). */
  boolean ownsProbe(String upstream, String endpoint);

  /** Tells every node this node's verdict on an endpoint. */
  void publishHealth(String upstream, String endpoint, boolean healthy);

  /** Verdicts published by other nodes. */
  void onHealth(HealthListener listener);

  /**
   * Tells every node the HTTP keep-alive timeout this node learned for an endpoint's backend, so that
   * they close idle connections before it without seeing a close themselves.
   */
  void publishKeepAliveTimeout(String upstream, String endpoint, long millis);

  /** The keep-alive timeout the cluster learned for an endpoint, in milliseconds; -1 for none. Local. */
  long keepAliveTimeoutMillis(String upstream, String endpoint);

  /** Keep-alive timeouts learned by any node, these known now first. */
  void onKeepAliveTimeout(KeepAliveListener listener);

  /** Called after any share may have changed: a member joined or is known gone, the lease lapsed or came back. */
  void onSharesChanged(Runnable listener);

  /**
   * Publishes this node's snapshot about once a second: {@code {"configVersion": n, "upstreams":
   * {...}}}, the upstreams shaped as in {@code /admin/pools}.
   */
  void publishPoolsPeriodically(Supplier<JsonObject> snapshot);

  /**
   * The requests per second the other live members send to an upstream, from the snapshots they
   * published ({@code retryBudget.requestRate}); 0 when none publishes it. Local.
   */
  double requestRateElsewhere(String upstream);

  /** Members and their pool snapshots, plus cluster-wide totals, for {@code GET /admin/cluster}. */
  JsonObject view();

  /** Leaves the cluster (graceful: partitions migrate away first). Blocks; call off the event loops. */
  void leave();

  /** Splits {@code total} among {@code members}: member {@code index} gets its part, remainders to the first ones. */
  static int share(int total, int members, int index) {
    if (members <= 0) {
      return total;
    }
    return total / members + (index < total % members ? 1 : 0);
  }
}
