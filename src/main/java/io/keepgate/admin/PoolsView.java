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
      if (upstream.retryBudget().enabled()) {
        view.put("retryBudget", retryBudget(upstream));
      }
      byUpstream.put(upstream.name(), view);
    }
    return new JsonObject().put("upstreams", byUpstream);
  }

  /** This node's part of the upstream's retry budget; its {@code requestRate} is what the other members read. */
  private static JsonObject retryBudget(Upstream upstream) {
    long retries = 0;
    long refused = 0;
    for (UpstreamEndpoint endpoint : upstream.endpoints()) {
      retries += endpoint.stats().retries();
      refused += endpoint.stats().retriesRefused();
    }
    return new JsonObject()
        .put("requestRate", upstream.retryBudget().requestRate())
        .put("perSecond", upstream.retryBudget().allowancePerSecond())
        .put("retries", retries)
        .put("refused", refused);
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
        .put("retriesRefused", stats.retriesRefused())
        .put("tlsHandshakes", stats.tlsHandshakes())
        .put("tlsHandshakeMillis", Math.round(stats.tlsHandshakeSeconds() * 1000))
        .put("connectRate", stats.connectRate())
        .put("connectsPaced", stats.connectsPaced())
        .put("warmupTarget", stats.warmupTarget())
        .put("warmupConnections", stats.warmupConnections())
        .put("keepAlive", keepAlive(stats));
  }

  /** The idle timeout in use and what it was learned from: HTTP keep-alive, not TCP keepalive. */
  private static JsonObject keepAlive(EndpointStats stats) {
    long backend = stats.backendKeepAliveTimeoutMillis();
    return new JsonObject()
        .put("idleTimeoutMs", Math.round(stats.idleTimeoutSeconds() * 1000))
        .put("source", stats.idleTimeoutSource())
        .put("backendTimeoutMs", backend < 0 ? null : backend)
        .put("backendCloses", new JsonObject()
            .put("idle", stats.idleClosesByBackend())
            .put("reuse", stats.reuseClosesByBackend()));
  }
}
