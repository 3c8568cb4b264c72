package io.keepgate.upstream;

import io.keepgate.cluster.ClusterState;
import io.keepgate.config.Endpoint;
import io.keepgate.config.UpstreamConfig;
import io.keepgate.health.EndpointHealth;
import io.keepgate.health.HealthChecker;
import io.keepgate.internal.Loop;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.resolver.AddressResolverGroup;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.internal.VertxInternal;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;

/**
 * Every upstream of the running config, with one {@link UpstreamEndpoint} per endpoint and one
 * {@link LoopPool} per endpoint and event loop.
 *
 * <p>Threading: immutable; a reload builds a new set, carrying unchanged upstreams over.
 */
public final class Upstreams {

  /**
   * What upstreams are built with: Vert.x (its transport, resolver and, for probes only, its HTTP
   * client), the event loops, the cluster, and the counters of each (upstream, endpoint), which
   * outlive a reload.
   */
  public record Environment(Vertx vertx, List<Loop> loops, ClusterState cluster,
      BiFunction<String, String, EndpointStats> statsFor) {}

  private final Map<String, Upstream> byName;

  private Upstreams(Map<String, Upstream> byName) {
    this.byName = byName;
  }

  /** Builds the pools of a first config; connections open on the first request. */
  public static Upstreams create(Environment environment, List<UpstreamConfig> configs) {
    return new Upstreams(Map.of()).reconcile(environment, configs);
  }

  /**
   * The upstreams of a new config: those whose config is unchanged are carried over with their
   * pools and pooled connections; the others are built anew. What this set holds and the new one
   * does not is {@link #retiredBy retired}, for the caller to close.
   */
  public Upstreams reconcile(Environment environment, List<UpstreamConfig> configs) {
    Map<String, Upstream> next = new LinkedHashMap<>();
    for (UpstreamConfig config : configs) {
      Upstream current = byName.get(config.name());
      next.put(config.name(), current != null && current.config().equals(config) ? current : build(environment, config));
    }
    return new Upstreams(next);
  }

  private static Upstream build(Environment environment, UpstreamConfig config) {
    VertxInternal vertx = (VertxInternal) environment.vertx();
    ChannelFactory<? extends Channel> channels = vertx.transport().channelFactory(false);
    AddressResolverGroup<InetSocketAddress> resolver = vertx.nameResolver().nettyAddressResolverGroup();
    boolean epoll = vertx.isNativeTransportEnabled();
    HttpClientAgent probes = vertx.createHttpClient(probeOptions(config));
    int total = config.pool().maxConnectionsTotal();
    BudgetShare budget = BudgetShare.of(total, environment.cluster());
    List<UpstreamEndpoint> endpoints = new ArrayList<>();
    for (Endpoint address : config.endpoints()) {
      EndpointHealth health = new EndpointHealth(config.name(), address, config.healthCheck(), environment.cluster());
      UpstreamEndpoint endpoint = new UpstreamEndpoint(config, address,
          environment.statsFor().apply(config.name(), address.toString()), health, budget, environment.loops(),
          (e, loop) -> new ChannelConnector(loop, config, address, channels, resolver, epoll));
      health.onEjected(endpoint::onEjected);
      health.start(vertx, HealthChecker.of(config.healthCheck(), probes));
      endpoints.add(endpoint);
    }
    return new Upstream(config, endpoints, LoadBalancer.of(config.loadBalancer(), environment.loops().size()),
        budget, probes);
  }

  private static HttpClientOptions probeOptions(UpstreamConfig config) {
    return new HttpClientOptions()
        .setConnectTimeout((int) config.pool().connectTimeout().toMillis())
        .setKeepAlive(false)
        .setName("keepgate-probes-" + config.name());
  }

  /** The upstreams of this set that {@code next} does not carry over. */
  public List<Upstream> retiredBy(Upstreams next) {
    return byName.values().stream().filter(u -> next.byName.get(u.name()) != u).toList();
  }

  /** Closes retired upstreams gracefully: idle connections now, leased ones when their exchange ends. */
  public static CompletableFuture<Void> close(List<Upstream> retired) {
    return CompletableFuture.allOf(retired.stream().map(Upstream::close).toArray(CompletableFuture[]::new));
  }

  /** After the cluster's shares changed: every budget takes its new share; pools over it shed idle connections. */
  public void resplitBudgets() {
    for (Upstream upstream : byName.values()) {
      upstream.resplitBudget();
    }
  }

  /** A health verdict from the cluster for one endpoint. */
  public void adoptVerdict(String upstream, String endpoint, boolean healthy) {
    Upstream target = byName.get(upstream);
    if (target != null) {
      for (UpstreamEndpoint candidate : target.endpoints()) {
        if (candidate.address().toString().equals(endpoint)) {
          candidate.health().adoptClusterVerdict(healthy);
        }
      }
    }
  }

  /** The upstream with this name, or {@code null}. */
  public Upstream get(String name) {
    return byName.get(name);
  }

  public Collection<Upstream> all() {
    return byName.values();
  }

  /** Closes every pool: idle connections at once, leased ones when their exchange ends. */
  public CompletableFuture<Void> close() {
    return close(List.copyOf(byName.values()));
  }
}
