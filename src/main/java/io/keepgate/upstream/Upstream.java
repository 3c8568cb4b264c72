package io.keepgate.upstream;

import io.keepgate.cluster.ClusterState;
import io.keepgate.config.UpstreamConfig;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClientAgent;
import java.util.List;

/**
 * One configured upstream: its endpoint pools and how to pick among them.
 *
 * <p>Threading: immutable after construction; safe to share across event loops.
 */
public final class Upstream {
  private final UpstreamConfig config;
  private final HttpClientAgent client;
  private final List<EndpointPool> pools;
  private final LoadBalancer balancer;

  private final UpstreamBudget budget;

  Upstream(UpstreamConfig config, HttpClientAgent client, List<EndpointPool> pools, UpstreamBudget budget) {
    this.config = config;
    this.client = client;
    this.budget = budget;
    this.pools = List.copyOf(pools);
    this.balancer = LoadBalancer.of(config.loadBalancer());
  }

  public String name() {
    return config.name();
  }

  public UpstreamConfig config() {
    return config;
  }

  public List<EndpointPool> pools() {
    return pools;
  }

  /** This node's share of {@code maxConnectionsTotal}, or -1 when the upstream has no budget. */
  public int budgetShare() {
    return budget == UpstreamBudget.UNLIMITED ? -1 : budget.limit();
  }

  /** Connections this node holds to the upstream, counted against its share. */
  public int budgetUsed() {
    return budget.open();
  }

  /** The endpoint pool for the next request, among healthy endpoints; {@code null} when none is. */
  public EndpointPool choose() {
    for (EndpointPool pool : pools) {
      if (!pool.stats().healthy()) {
        List<EndpointPool> healthy = pools.stream().filter(p -> p.stats().healthy()).toList();
        return healthy.isEmpty() ? null : balancer.choose(healthy);
      }
    }
    return balancer.choose(pools);
  }

  void resplitBudget(ClusterState cluster) {
    int total = config.pool().maxConnectionsTotal();
    if (total > 0 && budget.setLimit(cluster.shareOf(total))) {
      pools.forEach(EndpointPool::shedOverBudget);
    }
  }

  Future<Void> close() {
    return Future.all(pools.stream().map(EndpointPool::close).toList())
        .transform(ar -> client.close());
  }
}
