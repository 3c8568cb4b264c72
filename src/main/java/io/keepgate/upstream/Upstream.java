package io.keepgate.upstream;

import io.keepgate.config.UpstreamConfig;
import io.keepgate.health.EndpointHealth;
import io.vertx.core.http.HttpClientAgent;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * One configured upstream: its endpoints, how to pick among them, and this node's share of its
 * {@code maxConnectionsTotal}.
 *
 * <p>Threading: immutable after construction; safe to share across event loops.
 */
public final class Upstream {
  private final UpstreamConfig config;
  private final List<UpstreamEndpoint> endpoints;
  private final LoadBalancer balancer;
  private final BudgetShare budget;
  /** Vert.x's HTTP client, for health probes only: the data plane never uses it. */
  private final HttpClientAgent probes;

  Upstream(UpstreamConfig config, List<UpstreamEndpoint> endpoints, LoadBalancer balancer, BudgetShare budget,
      HttpClientAgent probes) {
    this.config = config;
    this.endpoints = List.copyOf(endpoints);
    this.balancer = balancer;
    this.budget = budget;
    this.probes = probes;
  }

  public String name() {
    return config.name();
  }

  public UpstreamConfig config() {
    return config;
  }

  public List<UpstreamEndpoint> endpoints() {
    return endpoints;
  }

  /** The endpoint for the next request from event loop {@code loopIndex}; {@code null} when none is healthy. */
  public UpstreamEndpoint choose(int loopIndex) {
    return balancer.choose(endpoints, loopIndex);
  }

  /** A healthy endpoint other than {@code tried}, for a request that leaves it; {@code null} when there is none. */
  public UpstreamEndpoint chooseOther(UpstreamEndpoint tried, int loopIndex) {
    UpstreamEndpoint chosen = choose(loopIndex);
    if (chosen != tried) {
      return chosen;
    }
    int at = endpoints.indexOf(tried);
    for (int i = 1; i < endpoints.size(); i++) {
      UpstreamEndpoint next = endpoints.get((at + i) % endpoints.size());
      if (next.health().healthy()) {
        return next;
      }
    }
    return null;
  }

  /** This node's share of {@code maxConnectionsTotal}, or -1 when the upstream has no budget. */
  public int budgetShare() {
    return budget.limited() ? budget.limit() : -1;
  }

  /** Connections this node holds to the upstream, counted against its share. */
  public int budgetUsed() {
    return budget.taken();
  }

  /** Opens a connection outside the pools (a WebSocket tunnel) on the event loop with this index. */
  public void connectDedicated(UpstreamEndpoint endpoint, int loopIndex, Consumer<UpstreamConnection> onConnected,
      Consumer<String> onFailed) {
    endpoint.pool(loopIndex).connectDedicated(onConnected, onFailed);
  }

  /** The cluster's split or this node's lease changed: takes the new share, shedding idle connections over it. */
  void resplitBudget() {
    if (budget.resplit()) {
      endpoints.forEach(UpstreamEndpoint::shedOverBudget);
    }
  }

  /** Closes every pool: idle connections at once, leased ones when their exchange ends. */
  CompletableFuture<Void> close() {
    endpoints.forEach(endpoint -> endpoint.health().stop());
    return CompletableFuture.allOf(endpoints.stream().map(UpstreamEndpoint::close).toArray(CompletableFuture[]::new))
        .whenComplete((v, e) -> probes.close());
  }
}
