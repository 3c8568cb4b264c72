package io.keepgate.admin;

import io.keepgate.GatewayRuntime;
import io.keepgate.cluster.ClusterState;
import io.keepgate.config.PoolConfig;
import io.keepgate.metrics.GatewayMetrics;
import io.keepgate.upstream.Upstream;
import io.vertx.core.json.JsonObject;

/**
 * One frame of the live dashboard ({@code GET /admin/events}, about once a second): the pools of
 * {@code /admin/pools} with each upstream's limits, the requests of every route (counts by status
 * and the latency histogram), and the cluster's view when clustered. Counters are cumulative: the
 * page turns consecutive frames into rates, ratios and quantiles over the last minute.
 *
 * <p>Threading: reads published snapshots and thread-safe counters only; runs on the admin loop.
 */
final class DashboardView {
  private DashboardView() {}

  static JsonObject of(GatewayRuntime runtime, GatewayMetrics metrics, ClusterState cluster) {
    JsonObject pools = PoolsView.of(runtime.upstreams()).getJsonObject("upstreams");
    for (Upstream upstream : runtime.upstreams().all()) {
      PoolConfig pool = upstream.config().pool();
      pools.getJsonObject(upstream.name()).put("limits", new JsonObject()
          .put("maxConnectionsPerEndpoint", pool.maxConnectionsPerEndpoint())
          .put("maxPendingRequests", pool.maxPendingRequests())
          .put("maxConnectionsTotal", pool.maxConnectionsTotal())
          .put("protocol", upstream.config().protocol().jsonName()));
    }
    JsonObject frame = new JsonObject()
        .put("timeMillis", System.currentTimeMillis())
        .put("configVersion", runtime.version())
        .put("upstreams", pools)
        .put("routes", metrics.requestsByRoute());
    JsonObject view = cluster.view();
    if (view.getBoolean("enabled", false)) {
      frame.put("cluster", view);
    }
    return frame;
  }
}
