package io.keepgate.upstream;

import io.keepgate.config.Endpoint;
import io.keepgate.config.UpstreamConfig;
import io.keepgate.internal.Ticker;
import io.vertx.core.http.HttpClientAgent;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One configured upstream: its endpoints, how to pick among them, and this node's share of its
 * {@code maxConnectionsTotal}. With discovery the endpoints change: a new address gets an
 * endpoint of its own (pools, health, counters), and one that left the set drains: it takes no
 * new request, the requests waiting for it go to the others, its idle connections close at once
 * (reason {@code drained}) and its busy ones when their exchange ends. An address that joins an
 * upstream already serving ramps up to its share over {@code slowStartMs} ({@link SlowStart}).
 *
 * <p>Threading: the endpoint list is an immutable list behind a volatile reference, read on every
 * request without a lock and replaced by {@link #updateEndpoints} (the discovery's thread, one at
 * a time). Everything else is immutable after construction.
 */
public final class Upstream {
  private final UpstreamConfig config;
  private volatile List<UpstreamEndpoint> endpoints;
  private final Function<Endpoint, UpstreamEndpoint> newEndpoint;
  private final List<UpstreamEndpoint> draining = new ArrayList<>();
  private final Runnable endpointsChanged;
  private final LoadBalancer balancer;
  private final BudgetShare budget;
  private final RetryBudget retryBudget;
  /** Vert.x's HTTP client, for health probes only: the data plane never uses it. */
  private final HttpClientAgent probes;
  /** How long readiness waits for a discovered upstream's first endpoints before it stops waiting. */
  private static final long DISCOVERY_WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);
  private final long createdNanos = System.nanoTime();
  /** Whether the endpoints are known: static ones, or a discovery's first answer arrived. */
  private volatile boolean endpointsKnown;
  /** Where the endpoints come from when discovered; null for static ones. */
  private volatile EndpointDiscovery discovery;

  Upstream(UpstreamConfig config, Function<Endpoint, UpstreamEndpoint> newEndpoint, Runnable endpointsChanged,
      LoadBalancer balancer, BudgetShare budget, RetryBudget retryBudget, HttpClientAgent probes) {
    this.config = config;
    this.newEndpoint = newEndpoint;
    this.endpointsChanged = endpointsChanged;
    this.endpoints = config.endpoints().stream().map(newEndpoint).toList();
    this.endpointsKnown = config.discovery() == null;
    this.balancer = balancer;
    this.budget = budget;
    this.retryBudget = retryBudget;
    this.probes = probes;
  }

  public String name() {
    return config.name();
  }

  public UpstreamConfig config() {
    return config;
  }

  /** The endpoints taking new requests now. */
  public List<UpstreamEndpoint> endpoints() {
    return endpoints;
  }

  /**
   * Whether the gateway's readiness waits for this upstream: its discovery has not answered yet,
   * for at most 10 s (an API server or DNS that never answers is logged and counted, and must not
   * keep the whole gateway out of its Service).
   */
  public boolean awaitingEndpoints() {
    return !endpointsKnown && System.nanoTime() - createdNanos < DISCOVERY_WAIT_NANOS;
  }

  /** Endpoints that left the discovered set and still hold connections. */
  public synchronized List<UpstreamEndpoint> drainingEndpoints() {
    return List.copyOf(draining);
  }

  /** The endpoint for the next request from event loop {@code loopIndex}; {@code null} when none is healthy. */
  public UpstreamEndpoint choose(int loopIndex) {
    List<UpstreamEndpoint> current = endpoints;
    if (current.isEmpty()) {
      return null;
    }
    UpstreamEndpoint chosen = balancer.choose(current, loopIndex);
    return chosen == null ? null : SlowStart.apply(current, chosen);
  }

  /** A healthy endpoint other than {@code tried}, for a request that leaves it; {@code null} when there is none. */
  public UpstreamEndpoint chooseOther(UpstreamEndpoint tried, int loopIndex) {
    List<UpstreamEndpoint> current = endpoints;
    UpstreamEndpoint chosen = choose(loopIndex);
    if (chosen != tried) {
      return chosen;
    }
    int at = current.indexOf(tried);
    for (int i = 1; i < current.size(); i++) {
      UpstreamEndpoint next = current.get(Math.floorMod(at + i, current.size()));
      if (next.health().healthy()) {
        return next;
      }
    }
    return null;
  }

  /**
   * A discovered set of addresses: new ones get an endpoint, kept ones keep theirs (and their
   * pooled connections), the others drain. One caller at a time: the upstream's discovery.
   */
  synchronized void updateEndpoints(List<Endpoint> addresses) {
    Set<Endpoint> wanted = new LinkedHashSet<>(addresses);
    List<UpstreamEndpoint> next = new ArrayList<>();
    List<UpstreamEndpoint> leaving = new ArrayList<>();
    for (UpstreamEndpoint endpoint : endpoints) {
      if (wanted.remove(endpoint.address())) {
        next.add(endpoint);
      } else {
        leaving.add(endpoint);
      }
    }
    boolean serving = !next.isEmpty(); // endpoints joining an upstream with none take it all at once
    for (Endpoint address : wanted) {
      UpstreamEndpoint joining = newEndpoint.apply(address);
      if (serving && !config.slowStart().isZero()) {
        joining.startSlowly(new SlowStart(Ticker.SYSTEM, config.slowStart().toNanos()));
      }
      next.add(joining);
    }
    endpoints = List.copyOf(next); // new requests see the new set from here on
    for (UpstreamEndpoint endpoint : leaving) {
      draining.add(endpoint);
      endpoint.health().stop();
      endpoint.close(CloseReason.DRAINED).whenComplete((v, e) -> {
        synchronized (this) {
          draining.remove(endpoint);
        }
      });
    }
    endpointsKnown = true;
    // series of endpoints gone before this change end now; a draining one's last until the next
    endpointsChanged.run();
  }

  /** Follows {@code discovery} from now on, and stops it when this upstream closes. */
  void discoverWith(EndpointDiscovery discovery) {
    this.discovery = discovery;
    discovery.start();
  }

  /** This node's share of {@code maxConnectionsTotal}, or -1 when the upstream has no budget. */
  public int budgetShare() {
    return budget.limited() ? budget.limit() : -1;
  }

  /** This node's part of the upstream's cluster-wide retry budget. */
  public RetryBudget retryBudget() {
    return retryBudget;
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
    if (discovery != null) {
      discovery.close();
    }
    List<UpstreamEndpoint> all = new ArrayList<>(endpoints);
    all.addAll(drainingEndpoints());
    all.forEach(endpoint -> endpoint.health().stop());
    return CompletableFuture.allOf(all.stream().map(e -> e.close(CloseReason.SHUTDOWN))
            .toArray(CompletableFuture[]::new))
        .whenComplete((v, e) -> probes.close());
  }
}
