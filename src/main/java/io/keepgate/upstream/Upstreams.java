package io.keepgate.upstream;

import io.keepgate.cluster.ClusterState;
import io.keepgate.config.Endpoint;
import io.keepgate.config.UpstreamConfig;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.internal.VertxInternal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every upstream of the running config, with one {@link EndpointPool} per endpoint.
 *
 * <p>Threading: immutable; a reload builds a new set (carrying unchanged upstreams over). Each
 * endpoint pool gets its own home event loop, spread round-robin over the Vert.x event loops.
 */
public final class Upstreams {
  /** Upstream response heads larger than this are a protocol error (502). */
  private static final int MAX_RESPONSE_HEADER_BYTES = 65536;
  /**
   * Body chunks up to this size come out of one socket read: each chunk becomes one write to the
   * client, so 8 KiB chunks (the Vert.x default) meant eight writes for a 64 KiB body.
   */
  private static final int MAX_RESPONSE_CHUNK_BYTES = 65536;

  private final Map<String, Upstream> byName;

  private Upstreams(Map<String, Upstream> byName) {
    this.byName = byName;
  }

  /** Builds the pools of a first config; connections open lazily on the first request. */
  public static Upstreams create(Vertx vertx, List<UpstreamConfig> configs, ClusterState cluster) {
    return new Upstreams(Map.of()).reconcile(vertx, configs, cluster);
  }

  /**
   * The upstreams of a new config: those whose config is unchanged are carried over with their
   * pools and pooled connections; the others are built anew. What this set holds and the new one
   * does not is {@link #retiredBy retired}, for the caller to close.
   */
  public Upstreams reconcile(Vertx vertx, List<UpstreamConfig> configs, ClusterState cluster) {
    Map<String, Upstream> next = new LinkedHashMap<>();
    for (UpstreamConfig config : configs) {
      Upstream current = byName.get(config.name());
      next.put(config.name(), current != null && current.config().equals(config)
          ? current : build(vertx, config, cluster));
    }
    return new Upstreams(next);
  }

  private static Upstream build(Vertx vertx, UpstreamConfig config, ClusterState cluster) {
    HttpClientAgent client = vertx.createHttpClient(clientOptions(config));
    int total = config.pool().maxConnectionsTotal();
    UpstreamBudget budget = total > 0 ? new UpstreamBudget(cluster.shareOf(total)) : UpstreamBudget.UNLIMITED;
    List<EndpointPool> pools = new ArrayList<>();
    for (Endpoint endpoint : config.endpoints()) {
      Context home = ((VertxInternal) vertx).createEventLoopContext();
      pools.add(new EndpointPool(config, endpoint, client, budget, cluster, home, System::nanoTime));
    }
    return new Upstream(config, client, pools, budget);
  }

  /** The upstreams of this set that {@code next} does not carry over. */
  public List<Upstream> retiredBy(Upstreams next) {
    return byName.values().stream().filter(u -> next.byName.get(u.name()) != u).toList();
  }

  /** Closes retired upstreams gracefully: idle connections now, leased ones when their exchange ends. */
  public static Future<Void> close(List<Upstream> retired) {
    return Future.all(retired.stream().map(Upstream::close).toList()).mapEmpty();
  }

  /** After a membership change: every budget takes its new share; pools over it shed idle connections. */
  public void resplitBudgets(ClusterState cluster) {
    for (Upstream upstream : byName.values()) {
      upstream.resplitBudget(cluster);
    }
  }

  /** A health verdict from the cluster for one endpoint. */
  public void adoptVerdict(String upstream, String endpoint, boolean healthy) {
    Upstream target = byName.get(upstream);
    if (target != null) {
      target.pools().stream().filter(p -> p.endpoint().toString().equals(endpoint))
          .forEach(p -> p.adoptClusterVerdict(healthy));
    }
  }

  static HttpClientOptions clientOptions(UpstreamConfig config) {
    return new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_1_1)
        .setKeepAlive(true)
        .setConnectTimeout((int) config.pool().connectTimeout().toMillis())
        .setTcpNoDelay(true)
        .setTcpKeepAlive(config.tcpKeepAlive().enabled())
        .setMaxHeaderSize(MAX_RESPONSE_HEADER_BYTES)
        .setMaxChunkSize(MAX_RESPONSE_CHUNK_BYTES)
        .setDecompressionSupported(false)
        .setName(config.name());
  }

  /** The upstream with this name, or {@code null}. */
  public Upstream get(String name) {
    return byName.get(name);
  }

  public Collection<Upstream> all() {
    return byName.values();
  }

  /** Closes every pool: idle connections at once, leased ones when their exchange ends. */
  public Future<Void> close() {
    return close(List.copyOf(byName.values()));
  }
}
