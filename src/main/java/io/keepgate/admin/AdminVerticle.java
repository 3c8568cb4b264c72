package io.keepgate.admin;

import io.keepgate.ConfigReloader;
import io.keepgate.GatewayRuntime;
import io.keepgate.GatewayState;
import io.keepgate.cluster.ClusterState;
import io.keepgate.config.AdminConfig;
import io.keepgate.config.ConfigLoader;
import io.keepgate.metrics.GatewayMetrics;
import io.keepgate.upstream.Upstream;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.function.Supplier;

/**
 * The admin listener (never the proxy port): liveness, readiness, Prometheus metrics, pool and
 * config views, and the live dashboard ({@code /}: one page fed by {@code /admin/events}, a frame a
 * second). It only reads published snapshots and never reaches into a proxy's pool.
 */
public final class AdminVerticle extends VerticleBase {
  private final AdminConfig config;
  private final Supplier<GatewayRuntime> runtime;
  private final GatewayState state;
  private final PrometheusMeterRegistry registry;
  private final GatewayMetrics metrics;
  private final ClusterState cluster;
  private final ConfigReloader reloader;
  private HttpServer server;
  /** How often an open dashboard gets a frame. */
  static final long EVENT_PERIOD_MILLIS = 1000;

  /** @param reloader applies config-file changes; null when the gateway runs without a config file */
  public AdminVerticle(AdminConfig config, Supplier<GatewayRuntime> runtime, GatewayState state,
      PrometheusMeterRegistry registry, GatewayMetrics metrics, ClusterState cluster, ConfigReloader reloader) {
    this.config = config;
    this.runtime = runtime;
    this.state = state;
    this.registry = registry;
    this.metrics = metrics;
    this.cluster = cluster;
    this.reloader = reloader;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    router.get("/health/live").handler(ctx -> text(ctx, 200, "live"));
    router.get("/health/ready").handler(ctx -> {
      if (!state.ready()) {
        String detail = state.notReadyDetail(); // the warm hand-off under way, if one holds readiness back
        text(ctx, 503, detail.isEmpty() ? "not ready" : "not ready: " + detail);
        return;
      }
      // a new pod takes no traffic before its discovered upstreams know their endpoints (10 s at most)
      List<String> awaiting = runtime.get().upstreams().all().stream()
          .filter(Upstream::awaitingEndpoints).map(Upstream::name).toList();
      String ready = state.readyDetail().isEmpty() ? "ready" : "ready (" + state.readyDetail() + ")";
      text(ctx, awaiting.isEmpty() ? 200 : 503, awaiting.isEmpty() ? ready : "not ready: discovering " + awaiting);
    });
    router.get("/metrics").handler(ctx -> ctx.response()
        .putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8")
        .end(registry.scrape()));
    router.get("/admin/pools").handler(ctx -> json(ctx, PoolsView.of(runtime.get().upstreams())));
    router.get("/admin/config").handler(ctx -> {
      GatewayRuntime current = runtime.get();
      ctx.response().putHeader("X-Keepgate-Config-Version", Integer.toString(current.version()));
      json(ctx, ConfigLoader.toJson(current.config()));
    });
    router.post("/admin/reload").handler(this::reload);
    router.get("/admin/cluster").handler(ctx -> json(ctx, cluster.view()));
    Buffer page = dashboardPage();
    router.get("/").handler(ctx -> ctx.response().putHeader("content-type", "text/html; charset=utf-8").end(page));
    router.get("/dashboard").handler(ctx -> ctx.redirect("/"));
    router.get("/admin/events").handler(this::events);
    return vertx.createHttpServer()
        .requestHandler(router)
        .listen(config.port(), config.host())
        .onSuccess(s -> server = s);
  }

  /** 200 with the outcome when applied or unchanged, 422 with the problems when rejected. */
  private void reload(RoutingContext ctx) {
    if (reloader == null) {
      ctx.response().setStatusCode(409);
      json(ctx, new JsonObject().put("result", "unavailable").put("reason", "started without a config file"));
      return;
    }
    Future.fromCompletionStage(reloader.reloadNow(), vertx.getOrCreateContext()).onComplete(ar -> {
      if (ar.failed()) {
        ctx.response().setStatusCode(500);
        json(ctx, new JsonObject().put("result", "failed").put("reason", ar.cause().toString()));
        return;
      }
      String result = ar.result().result();
      ctx.response().setStatusCode(result.equals("rejected") ? 422 : result.equals("unreadable") ? 503 : 200);
      json(ctx, ar.result().toJson());
    });
  }

  /** Server-sent events: a {@link DashboardView} frame now and about once a second while the page is open. */
  private void events(RoutingContext ctx) {
    HttpServerResponse response = ctx.response().setChunked(true)
        .putHeader("content-type", "text/event-stream")
        .putHeader("cache-control", "no-cache");
    Runnable send = () -> response.write("data: " + DashboardView.of(runtime.get(), metrics, cluster).encode() + "\n\n");
    send.run();
    long timer = vertx.setPeriodic(EVENT_PERIOD_MILLIS, id -> send.run());
    response.closeHandler(v -> vertx.cancelTimer(timer));
    response.exceptionHandler(e -> vertx.cancelTimer(timer));
  }

  private static Buffer dashboardPage() {
    try (InputStream in = AdminVerticle.class.getResourceAsStream("dashboard.html")) {
      return Buffer.buffer(in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException("the dashboard page is missing from the jar", e);
    }
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
