package io.keepgate.upstream;

import io.keepgate.cluster.ClusterState;
import io.keepgate.config.DiscoveryConfig;
import io.keepgate.config.DnsDiscoveryConfig;
import io.keepgate.config.Endpoint;
import io.keepgate.config.KubernetesDiscoveryConfig;
import io.keepgate.config.ConfigException;
import io.keepgate.config.UpstreamConfig;
import io.keepgate.config.UpstreamTlsConfig;
import io.keepgate.tls.UpstreamTls;
import io.keepgate.health.EndpointHealth;
import io.keepgate.health.HealthChecker;
import io.keepgate.internal.Loop;
import io.keepgate.internal.Ticker;
import io.keepgate.internal.UpstreamSockets;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.resolver.AddressResolverGroup;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.internal.VertxInternal;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Every upstream of the running config, with one {@link UpstreamEndpoint} per endpoint and one
 * {@link LoopPool} per endpoint and event loop.
 *
 * <p>Threading: immutable; a reload builds a new set, carrying unchanged upstreams over.
 */
public final class Upstreams {

  /**
   * What upstreams are built with: Vert.x (its transport, resolver and, for probes only, its HTTP
   * client), the event loops, the cluster, the counters of each (upstream, endpoint), which
   * outlive a reload, and the count of upstream sockets, which client admission reads.
   */
  public record Environment(Vertx vertx, List<Loop> loops, ClusterState cluster,
      BiFunction<String, String, EndpointStats> statsFor, Runnable endpointsChanged,
      DiscoveryResults discoveryResults, UpstreamSockets sockets) {}

  /** Counts one result of an upstream's discovery: {@code changed}, {@code unchanged}, {@code empty} or {@code failed}. */
  @FunctionalInterface
  public interface DiscoveryResults {
    void accept(String upstream, String source, String result);
  }

  private final Map<String, Upstream> byName;

  private Upstreams(Map<String, Upstream> byName) {
    this.byName = byName;
  }

  /** Builds the pools of a first config; connections open on the first request. */
  public static Upstreams create(Environment environment, List<UpstreamConfig> configs) throws ConfigException {
    return new Upstreams(Map.of()).reconcile(environment, configs);
  }

  /**
   * The upstreams of a new config: those whose config is unchanged are carried over with their
   * pools and pooled connections; the others are built anew. What this set holds and the new one
   * does not is {@link #retiredBy retired}, for the caller to close.
   */
  public Upstreams reconcile(Environment environment, List<UpstreamConfig> configs) throws ConfigException {
    // TLS files first, for every upstream to build: a bad one rejects the config before any pool starts
    Map<String, UpstreamTls> tls = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    for (int i = 0; i < configs.size(); i++) {
      UpstreamConfig config = configs.get(i);
      if (!carriedOver(config) && config.tls().enabled()) {
        try {
          tls.put(config.name(), UpstreamTls.of(config, i));
        } catch (ConfigException e) {
          problems.addAll(e.problems());
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    Map<String, Upstream> next = new LinkedHashMap<>();
    for (UpstreamConfig config : configs) {
      next.put(config.name(), carriedOver(config) ? byName.get(config.name())
          : build(environment, config, tls.get(config.name())));
    }
    return new Upstreams(next);
  }

  private boolean carriedOver(UpstreamConfig config) {
    Upstream current = byName.get(config.name());
    return current != null && current.config().equals(config);
  }

  private static Upstream build(Environment environment, UpstreamConfig config, UpstreamTls tls) {
    VertxInternal vertx = (VertxInternal) environment.vertx();
    // counted: client admission leaves descriptors for them (ConnectionLimit)
    ChannelFactory<? extends Channel> channels = environment.sockets().counting(vertx.transport().channelFactory(false));
    AddressResolverGroup<InetSocketAddress> resolver = vertx.nameResolver().nettyAddressResolverGroup();
    boolean epoll = vertx.isNativeTransportEnabled();
    HttpClientAgent probes = vertx.createHttpClient(probeOptions(config));
    int total = config.pool().maxConnectionsTotal();
    BudgetShare budget = BudgetShare.of(total, environment.cluster());
    Function<Endpoint, UpstreamEndpoint> newEndpoint = address -> {
      EndpointHealth health = new EndpointHealth(config.name(), address, config.healthCheck(), environment.cluster());
      EndpointStats stats = environment.statsFor().apply(config.name(), address.toString());
      UpstreamEndpoint endpoint = new UpstreamEndpoint(config, address, stats, health, budget, environment.cluster(),
          environment.loops(),
          (e, loop) -> new ChannelConnector(loop, config, address, channels, resolver, epoll, tls, stats));
      endpoint.paceConnects(ConnectRate.of(config.pool().connectRate(), environment.cluster(), Ticker.SYSTEM));
      health.onEjected(endpoint::onEjected);
      health.start(vertx, HealthChecker.of(config.healthCheck(), probes));
      return endpoint;
    };
    RetryBudget retryBudget = new RetryBudget(config.retryBudget(), Ticker.SYSTEM, environment.cluster().memberCount());
    Upstream upstream = new Upstream(config, newEndpoint, environment.endpointsChanged(),
        LoadBalancer.of(config.loadBalancer(), environment.loops().size()), budget, retryBudget, probes);
    if (config.discovery() instanceof DnsDiscoveryConfig dns) {
      upstream.discoverWith(new DnsDiscovery(dns, config.name(), vertx.nettyEventLoopGroup().next(),
          vertx.transport()::datagramChannel, upstream::updateEndpoints, counter(environment, dns)));
    } else if (config.discovery() instanceof KubernetesDiscoveryConfig kubernetes) {
      upstream.discoverWith(new KubernetesDiscovery(kubernetes, config.name(), vertx, upstream::updateEndpoints,
          counter(environment, kubernetes)));
    }
    return upstream;
  }

  /** Counts a discovery's results as ({@code upstream}, result) under its source. */
  private static BiConsumer<String, String> counter(Environment environment, DiscoveryConfig discovery) {
    return (upstream, result) -> environment.discoveryResults().accept(upstream, discovery.source(), result);
  }

  private static HttpClientOptions probeOptions(UpstreamConfig config) {
    HttpClientOptions options = new HttpClientOptions()
        .setConnectTimeout((int) config.pool().connectTimeout().toMillis())
        .setKeepAlive(false)
        .setName("keepgate-probes-" + config.name());
    UpstreamTlsConfig tls = config.tls();
    if (tls.enabled()) {
      // HTTP probes of a TLS upstream speak TLS with the same trust and client certificate; a
      // pinned serverName is not what a probe's Host names, so only the chain is verified then
      options.setSsl(true).setTrustAll(!tls.verify()).setVerifyHost(tls.verify() && tls.serverName().isEmpty());
      if (tls.caFile() != null) {
        options.setTrustOptions(new PemTrustOptions().addCertPath(tls.caFile().toString()));
      }
      if (tls.certFile() != null) {
        options.setKeyCertOptions(new PemKeyCertOptions()
            .setCertPath(tls.certFile().toString()).setKeyPath(tls.keyFile().toString()));
      }
    }
    return options;
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

  /** About once a second: every retry budget takes its part from this node's traffic and the other members'. */
  public void rebalanceRetryBudgets(ClusterState cluster) {
    for (Upstream upstream : byName.values()) {
      if (upstream.retryBudget().enabled()) {
        upstream.retryBudget().rebalance(cluster.requestRateElsewhere(upstream.name()), cluster.memberCount());
      }
    }
  }

  /** A health verdict from the cluster for one endpoint. */
  public void adoptVerdict(String upstream, String endpoint, boolean healthy) {
    forEndpoint(upstream, endpoint, target -> target.health().adoptClusterVerdict(healthy));
  }

  /** A keep-alive timeout learned in the cluster for one endpoint. */
  public void adoptKeepAliveTimeout(String upstream, String endpoint, long millis) {
    forEndpoint(upstream, endpoint, target -> target.adoptClusterKeepAlive(millis));
  }

  private void forEndpoint(String upstream, String endpoint, Consumer<UpstreamEndpoint> action) {
    Upstream target = byName.get(upstream);
    if (target != null) {
      for (UpstreamEndpoint candidate : target.endpoints()) {
        if (candidate.address().toString().equals(endpoint)) {
          action.accept(candidate);
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
