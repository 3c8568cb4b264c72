package io.keepgate.admin;

import io.keepgate.GatewayState;
import io.keepgate.cluster.ClusterState;
import io.keepgate.config.AdminConfig;
import io.keepgate.config.ConfigLoader;
import io.keepgate.config.GatewayConfig;
import io.keepgate.upstream.Upstreams;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * The admin listener (never the proxy port): liveness, readiness, Prometheus metrics, pool and
 * config views. It only reads published snapshots and never reaches into a proxy's pool.
 */
public final class AdminVerticle extends VerticleBase {
  private final AdminConfig config;
  private final GatewayConfig gatewayConfig;
  private final GatewayState state;
  private final Upstreams upstreams;
  private final PrometheusMeterRegistry registry;
  private final ClusterState cluster;
  private HttpServer server;

  public AdminVerticle(GatewayConfig gatewayConfig, GatewayState state, Upstreams upstreams,
      PrometheusMeterRegistry registry, ClusterState cluster) {
    this.config = gatewayConfig.admin();
    this.gatewayConfig = gatewayConfig;
    this.state = state;
    this.upstreams = upstreams;
    this.registry = registry;
    this.cluster = cluster;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    router.get("/health/live").handler(ctx -> text(ctx, 200, "live"));
    router.get("/health/ready").handler(ctx -> {
      boolean ready = state.ready();
      text(ctx, ready ? 200 : 503, ready ? "ready" : "not ready");
    });
    router.get("/metrics").handler(ctx -> ctx.response()
        .putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8")
        .end(registry.scrape()));
    router.get("/admin/pools").handler(ctx -> json(ctx, PoolsView.of(upstreams)));
    router.get("/admin/config").handler(ctx -> json(ctx, ConfigLoader.toJson(gatewayConfig)));
    router.get("/admin/cluster").handler(ctx -> json(ctx, cluster.view()));
    return vertx.createHttpServer()
        .requestHandler(router)
        .listen(config.port(), config.host())
        .onSuccess(s -> server = s);
  }

  /** The bound port (useful when configured as 0). */
  public int actualPort() {
    return server.actualPort();
  }

  private static void text(RoutingContext ctx, int status, String body) {
    ctx.response().setStatusCode(status).putHeader("content-type", "text/plain; charset=utf-8").end(body + "\n");
  }

  private static void json(RoutingContext ctx, JsonObject body) {
    ctx.response().putHeader("content-type", "application/json").end(body.encodePrettily());
  }
}
