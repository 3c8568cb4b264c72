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
 * <p>Threading: built once on startup and immutable afterwards. Each endpoint pool gets its own
 * home event loop, spread round-robin over the Vert.x event loops.
 */
public final class Upstreams {
  /** Upstream response heads larger than this are a protocol error (502). */
  private static final int MAX_RESPONSE_HEADER_BYTES = 65536;

  private final Map<String, Upstream> byName;

  private Upstreams(Map<String, Upstream> byName) {
    this.byName = byName;
  }

  /**
   * Builds the pools (connections open lazily on the first request) and ties them to the cluster:
   * peers' health verdicts reach the pools, membership changes re-split the budgets.
   */
  public static Upstreams create(Vertx vertx, List<UpstreamConfig> configs, ClusterState cluster) {
    Map<String, Upstream> byName = new LinkedHashMap<>();
    for (UpstreamConfig config : configs) {
      HttpClientAgent client = vertx.createHttpClient(clientOptions(config));
      int total = config.pool().maxConnectionsTotal();
      UpstreamBudget budget = total > 0 ? new UpstreamBudget(cluster.shareOf(total)) : UpstreamBudget.UNLIMITED;
      List<EndpointPool> pools = new ArrayList<>();
      for (Endpoint endpoint : config.endpoints()) {
        Context home = ((VertxInternal) vertx).createEventLoopContext();
        pools.add(new EndpointPool(config, endpoint, client, budget, cluster, home, System::nanoTime));
      }
      byName.put(config.name(), new Upstream(config, client, pools, budget));
      if (total > 0) {
        cluster.onMembershipChange(() -> {
          if (budget.setLimit(cluster.shareOf(total))) {
            pools.forEach(EndpointPool::shedOverBudget);
          }
        });
      }
    }
    Upstreams upstreams = new Upstreams(byName);
    cluster.onHealth(upstreams::adoptVerdict);
    return upstreams;
  }

  private void adoptVerdict(String upstream, String endpoint, boolean healthy) {
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
    return Future.all(byName.values().stream().map(Upstream::close).toList()).mapEmpty();
  }
}
