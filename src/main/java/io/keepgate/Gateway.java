package io.keepgate;

import io.keepgate.admin.AdminVerticle;
import io.keepgate.admin.PoolsView;
import io.keepgate.cluster.ClusterState;
import io.keepgate.cluster.HazelcastCluster;
import io.keepgate.cluster.LocalNode;
import io.keepgate.config.GatewayConfig;
import io.keepgate.metrics.AccessLog;
import io.keepgate.metrics.GatewayMetrics;
import io.keepgate.proxy.ProxyHandler;
import io.keepgate.proxy.ProxyVerticle;
import io.keepgate.routing.RouteTable;
import io.keepgate.upstream.EndpointPool;
import io.keepgate.upstream.Upstream;
import io.keepgate.upstream.Upstreams;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running keepgate node: Vert.x, the upstream pools, the proxy verticles and the admin
 * listener. {@link #start} and {@link #drain} are the whole lifecycle; tests use it in-process.
 *
 * <p>Threading: start and drain are called from one non-event-loop thread (main or a signal
 * handler) and may block it; nothing here runs on an event loop.
 */
public final class Gateway {
  private static final Logger log = LoggerFactory.getLogger(Gateway.class);

  private final GatewayConfig config;
  private final Vertx vertx;
  private final PrometheusMeterRegistry registry;
  private final GatewayState state = new GatewayState();
  private final List<HttpServer> proxyServers = new CopyOnWriteArrayList<>();
  private final ClusterState cluster;
  private Upstreams upstreams;
  private int proxyPort;
  private int adminPort;

  private Gateway(GatewayConfig config, Vertx vertx, PrometheusMeterRegistry registry, ClusterState cluster) {
    this.config = config;
    this.vertx = vertx;
    this.registry = registry;
    this.cluster = cluster;
  }

  /** Starts a node and waits until it serves; fails if a listener cannot bind. */
  public static Gateway start(GatewayConfig config) throws Exception {
    ClusterState cluster = config.cluster().enabled() ? HazelcastCluster.start(config.cluster()) : new LocalNode();
    try {
      return start(config, cluster);
    } catch (Exception e) {
      cluster.leave();
      throw e;
    }
  }

  private static Gateway start(GatewayConfig config, ClusterState cluster) throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    VertxOptions options = new VertxOptions()
        .setPreferNativeTransport(true)
        .setEventLoopPoolSize(config.server().effectiveEventLoops())
        .setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true));
    Vertx vertx = Vertx.builder().with(options).withMetrics(new MicrometerMetricsFactory(registry)).build();
    if (vertx.isNativeTransportEnabled()) {
      log.info("transport=epoll (native): TCP keepalive timers and TCP_USER_TIMEOUT on upstream sockets");
    } else {
      log.info("transport=nio: TCP keepalive timers on upstream sockets, no TCP_USER_TIMEOUT ({})",
          vertx.unavailableNativeTransportCause() == null ? "native transport not available"
              : vertx.unavailableNativeTransportCause().toString());
    }
    Gateway gateway = new Gateway(config, vertx, registry, cluster);
    try {
      gateway.deploy();
    } catch (Exception e) {
      vertx.close().await(10, TimeUnit.SECONDS);
      throw e;
    }
    return gateway;
  }

  private void deploy() throws Exception {
    GatewayMetrics metrics = new GatewayMetrics(registry);
    upstreams = Upstreams.create(vertx, config.upstreams(), cluster);
    cluster.publishPoolsPeriodically(() -> PoolsView.of(upstreams).getJsonObject("upstreams"));
    for (Upstream upstream : upstreams.all()) {
      for (EndpointPool pool : upstream.pools()) {
        metrics.bindEndpoint(pool);
      }
    }
    RouteTable routes = RouteTable.create(config.routes(), upstreams);
    ProxyHandler handler = new ProxyHandler(() -> routes, metrics, new AccessLog(config.accessLog().enabled()));

    // All instances share one listening socket; Vert.x shares a random port when asked for -1.
    int loops = config.server().effectiveEventLoops();
    int port = config.server().port() == 0 ? -1 : config.server().port();
    await(vertx.deployVerticle(() -> new ProxyVerticle(config.server(), port, handler, proxyServers::add),
        new DeploymentOptions().setThreadingModel(ThreadingModel.EVENT_LOOP).setInstances(loops)));
    proxyPort = proxyServers.get(0).actualPort();
    AdminVerticle admin = new AdminVerticle(config, state, upstreams, registry, cluster);
    await(vertx.deployVerticle(admin));
    adminPort = admin.actualPort();
    state.setReady(true);
    log.info("keepgate serving proxy={}:{} admin={}:{} eventLoops={} upstreams={} routes={}", config.server().host(),
        proxyPort, config.admin().host(), adminPort, loops, config.upstreams().size(), config.routes().size());
  }

  /**
   * Graceful stop: readiness turns 503, listeners stop accepting, in-flight requests get
   * {@code server.drainTimeoutMs} to finish, then the pools close, the node leaves the cluster and
   * Vert.x closes. Blocks until done.
   */
  public void drain() {
    state.setReady(false);
    long drainMillis = config.server().drainTimeout().toMillis();
    log.info("draining: in-flight requests have {} ms", drainMillis);
    try {
      await(Future.all(proxyServers.stream().map(s -> s.shutdown(drainMillis, TimeUnit.MILLISECONDS)).toList()),
          drainMillis + 5000);
      await(upstreams.close(), 5000);
    } catch (Exception e) {
      log.warn("drain did not complete cleanly: {}", e.toString());
    }
    cluster.leave();
    try {
      vertx.close().await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("vert.x close did not complete: {}", e.toString());
    }
    log.info("stopped");
  }

  public int proxyPort() {
    return proxyPort;
  }

  public int adminPort() {
    return adminPort;
  }

  public Upstreams upstreams() {
    return upstreams;
  }

  public Vertx vertx() {
    return vertx;
  }

  private static <T> T await(Future<T> future) throws Exception {
    return await(future, 30_000);
  }

  private static <T> T await(Future<T> future, long timeoutMillis) throws Exception {
    return future.await(timeoutMillis, TimeUnit.MILLISECONDS);
  }
}
