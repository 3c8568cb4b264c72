package io.keepgate.admin;

import io.keepgate.upstream.CloseReason;
import io.keepgate.upstream.UpstreamEndpoint;
import io.keepgate.upstream.EndpointStats;
import io.keepgate.upstream.Upstream;
import io.keepgate.upstream.Upstreams;
import io.vertx.core.json.JsonObject;

/**
 * The JSON of {@code GET /admin/pools}: per upstream and endpoint, the pool counters and the
 * endpoint's state: {@code ready}, {@code warming} (ramping up to its share, slow start) or
 * {@code draining} (it left the discovered set); its connect pacing ({@code connectRate}: this
 * node's share per second, 0 when unpaced; {@code connectsPaced}) and this node's warm hand-off
 * ({@code warmupTarget}, {@code warmupConnections}).
 *
 * <p>Threading: reads {@link EndpointStats}, which is safe from any thread.
 */
public final class PoolsView {
  private PoolsView() {}

  /** The {@code /admin/pools} JSON of these upstreams. */
  public static JsonObject of(Upstreams upstreams) {
    JsonObject byUpstream = new JsonObject();
    for (Upstream upstream : upstreams.all()) {
      JsonObject byEndpoint = new JsonObject();
      for (UpstreamEndpoint endpoint : upstream.endpoints()) {
        byEndpoint.put(endpoint.address().toString(),
            endpoint(endpoint.stats()).put("state", endpoint.warming() ? "warming" : "ready"));
      }
      for (UpstreamEndpoint endpoint : upstream.drainingEndpoints()) {
        byEndpoint.put(endpoint.address().toString(), endpoint(endpoint.stats()).put("state", "draining"));
      }
      JsonObject view = new JsonObject().put("endpoints", byEndpoint);
      if (upstream.budgetShare() >= 0) {
        view.put("budget", new JsonObject().put("share", upstream.budgetShare()).put("used", upstream.budgetUsed()));
      }
      byUpstream.put(upstream.name(), view);
    }
    return new JsonObject().put("upstreams", byUpstream);
  }

  static JsonObject endpoint(EndpointStats stats) {
    JsonObject closed = new JsonObject();
    for (CloseReason reason : CloseReason.values()) {
      closed.put(reason.label(), stats.closed(reason));
    }
    return new JsonObject()
        .put("active", stats.active())
        .put("idle", stats.idle())
        .put("pending", stats.pending())
        .put("opened", stats.opened())
        .put("closed", closed)
        .put("connectFailures", stats.connectFailures())
        .put("healthy", stats.healthy())
        .put("requests", stats.requests())
        .put("retries", stats.retries())
        .put("tlsHandshakes", stats.tlsHandshakes())
        .put("tlsHandshakeMillis", Math.round(stats.tlsHandshakeSeconds() * 1000))
        .put("connectRate", stats.connectRate())
        .put("connectsPaced", stats.connectsPaced())
        .put("warmupTarget", stats.warmupTarget())
        .put("warmupConnections", stats.warmupConnections());
  }
}
