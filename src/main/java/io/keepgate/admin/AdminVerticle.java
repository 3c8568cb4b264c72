package io.keepgate.admin;

import io.keepgate.GatewayState;
import io.keepgate.config.AdminConfig;
import io.keepgate.config.ConfigLoader;
import io.keepgate.config.GatewayConfig;
import io.keepgate.upstream.Upstreams;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.lang.management.ManagementFactory;

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
  private HttpServer server;

  public AdminVerticle(GatewayConfig gatewayConfig, GatewayState state, Upstreams upstreams,
      PrometheusMeterRegistry registry) {
    this.config = gatewayConfig.admin();
    this.gatewayConfig = gatewayConfig;
    this.state = state;
    this.upstreams = upstreams;
    this.registry = registry;
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
    router.get("/admin/cluster").handler(ctx -> json(ctx, clusterView()));
    return vertx.createHttpServer()
        .requestHandler(router)
        .listen(config.port(), config.host())
        .onSuccess(s -> server = s);
  }

  /** The bound port (useful when configured as 0). */
  public int actualPort() {
    return server.actualPort();
  }

  /** Clustering is off in this build: the cluster is this node alone. */
  private JsonObject clusterView() {
    return new JsonObject()
        .put("enabled", false)
        .put("members", new JsonArray().add(new JsonObject()
            .put("name", ManagementFactory.getRuntimeMXBean().getName())
            .put("self", true)
            .put("pools", PoolsView.of(upstreams).getJsonObject("upstreams"))));
  }

  private static void text(RoutingContext ctx, int status, String body) {
    ctx.response().setStatusCode(status).putHeader("content-type", "text/plain; charset=utf-8").end(body + "\n");
  }

  private static void json(RoutingContext ctx, JsonObject body) {
    ctx.response().putHeader("content-type", "application/json").end(body.encodePrettily());
  }
}
