package io.keepgate;

import io.keepgate.admin.AdminVerticle;
import io.keepgate.admin.PoolsView;
import io.keepgate.cluster.ClusterState;
import io.keepgate.cluster.HazelcastCluster;
import io.keepgate.cluster.LocalNode;
import io.keepgate.config.ConfigException;
import io.keepgate.config.GatewayConfig;
import io.keepgate.metrics.AccessLog;
import io.keepgate.metrics.GatewayMetrics;
import io.keepgate.internal.Loop;
import io.keepgate.internal.LoopTimers;
import io.keepgate.internal.Ticker;
import io.keepgate.internal.UpstreamSockets;
import io.keepgate.proxy.ProxyVerticle;
import io.keepgate.routing.RouteTable;
import io.keepgate.tls.ServerCertificates;
import io.keepgate.upstream.Upstream;
import io.keepgate.upstream.UpstreamEndpoint;
import io.keepgate.upstream.Upstreams;
import io.keepgate.upstream.Warmup;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running keepgate node: Vert.x and its event loops, the cluster member, the upstream pools
 * (one per endpoint and loop), the proxy listener (keepgate's own HTTP/1.1 data plane on those
 * loops) and the admin listener. {@link #start}, {@link #reload} and {@link #drain} are the lifecycle;
 * tests use it in-process.
 *
 * <p>Threading: start and drain are called from one non-event-loop thread (main or a signal
 * handler) and may block it; reloads come one at a time from the {@link ConfigReloader} thread. A
 * warm hand-off ({@code pool.warmup}) ends on a Vert.x thread and only turns readiness on.
 * The current {@link GatewayRuntime} is swapped atomically; every reader takes it whole.
 */
public final class Gateway {
  private static final Logger log = LoggerFactory.getLogger(Gateway.class);

  private final Vertx vertx;
  private final PrometheusMeterRegistry registry;
  private final GatewayMetrics metrics;
  private final ClusterState cluster;
  private final GatewayState state = new GatewayState();
  private final AtomicReference<GatewayRuntime> runtime = new AtomicReference<>();
  private final List<Loop> loops;
  private final Upstreams.Environment environment;
  private ProxyVerticle proxy;
  private AccessLog accessLog;
  private ConfigReloader reloader;
  private int proxyPort;
  private int adminPort;

  private Gateway(Vertx vertx, PrometheusMeterRegistry registry, ClusterState cluster) {
    this.vertx = vertx;
    this.registry = registry;
    this.metrics = new GatewayMetrics(registry);
    this.cluster = cluster;
    this.loops = startLoops(vertx);
    this.environment = new Upstreams.Environment(vertx, loops, cluster, metrics::endpointStats,
        () -> metrics.retainEndpoints(endpointKeys(runtime.get().upstreams())), metrics::discoveryUpdate,
        new UpstreamSockets());
  }

  /** Vert.x's event loops, in a stable order, each with its timers ticking. */
  private static List<Loop> startLoops(Vertx vertx) {
    List<Loop> loops = new ArrayList<>();
    for (EventExecutor executor : ((VertxInternal) vertx).nettyEventLoopGroup()) {
      Loop loop = new Loop(loops.size(), (EventLoop) executor, new LoopTimers(Ticker.SYSTEM));
      loop.timers().start(loop.eventLoop());
      loops.add(loop);
    }
    return List.copyOf(loops);
  }

  /** Starts a node and waits until it serves; fails if a listener cannot bind. No file to watch. */
  public static Gateway start(GatewayConfig config) throws Exception {
    return start(config, null);
  }

  /**
   * Starts a node and waits until it serves; fails if a listener cannot bind. With a warm hand-off
   * to make ({@code pool.warmup}, other members present), readiness turns on once it is done, after
   * this returns.
   *
   * @param configFile the file {@code config} came from, watched for changes; null for none
   */
  public static Gateway start(GatewayConfig config, Path configFile) throws Exception {
    ClusterState cluster = config.cluster().enabled() ? HazelcastCluster.start(config.cluster()) : new LocalNode();
    try {
      return start(config, configFile, cluster);
    } catch (Exception e) {
      cluster.leave();
      throw e;
    }
  }

  private static Gateway start(GatewayConfig config, Path configFile, ClusterState cluster) throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    VertxOptions options = new VertxOptions()
        .setPreferNativeTransport(true)
        .setEventLoopPoolSize(config.server().effectiveEventLoops())
        .setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true)
            // Vert.x 5.0's HTTP metrics register their meters again on every request (its meter
            // cache option is not wired in), a fifth of keepgate's CPU per request under load; and
            // keepgate_requests_total / keepgate_upstream_* already count the same exchanges.
            // The TCP connection, byte, pool and verticle meters stay.
            .setDisabledMetricsCategories(Set.of(MetricsDomain.HTTP_SERVER.toCategory(),
                MetricsDomain.HTTP_CLIENT.toCategory())));
    Vertx vertx = Vertx.builder().with(options).withMetrics(new MicrometerMetricsFactory(registry)).build();
    if (vertx.isNativeTransportEnabled()) {
      log.info("transport=epoll (native): TCP keepalive timers and TCP_USER_TIMEOUT on upstream sockets");
    } else {
      log.info("transport=nio: TCP keepalive timers on upstream sockets, no TCP_USER_TIMEOUT ({})",
          vertx.unavailableNativeTransportCause() == null ? "native transport not available"
              : vertx.unavailableNativeTransportCause().toString());
    }
    Gateway gateway = new Gateway(vertx, registry, cluster);
    try {
      gateway.deploy(config, configFile);
    } catch (Exception e) {
      vertx.close().await(10, TimeUnit.SECONDS);
      throw e;
    }
    return gateway;
  }

  private void deploy(GatewayConfig config, Path configFile) throws Exception {
    if (config.server().tls().enabled() || config.upstreams().stream().anyMatch(u -> u.tls().enabled())) {
      log.info("TLS: {}", ServerCertificates.engine());
    }
    Upstreams upstreams = Upstreams.create(environment, config.upstreams());
    runtime.set(new GatewayRuntime(config, upstreams, RouteTable.create(config.routes(), upstreams), 1));
    metrics.upstreams(upstreams.all());
    if (config.cluster().enabled()) {
      metrics.bindCluster(cluster::memberCount);
    }
    cluster.onSharesChanged(() -> runtime.get().upstreams().resplitBudgets());
    cluster.onHealth((upstream, endpoint, healthy) -> runtime.get().upstreams().adoptVerdict(upstream, endpoint, healthy));
    cluster.onKeepAliveTimeout((upstream, endpoint, millis) ->
        runtime.get().upstreams().adoptKeepAliveTimeout(upstream, endpoint, millis));
    cluster.publishPoolsPeriodically(this::poolSnapshot);
    // on an event loop: local reads only, the cluster's snapshots included
    vertx.setPeriodic(1000, id -> runtime.get().upstreams().rebalanceRetryBudgets(cluster));

    accessLog = new AccessLog(config.accessLog().enabled());
    metrics.bindAccessLog(accessLog);
    proxy = new ProxyVerticle(config.server(), loops, () -> runtime.get().routes(), metrics, accessLog,
        environment.sockets());
    await(vertx.deployVerticle(proxy));
    proxyPort = proxy.port();
    if (configFile != null) {
      reloader = ConfigReloader.watch(configFile, this);
    }
    AdminVerticle admin = new AdminVerticle(config.admin(), runtime::get, state, registry, metrics, cluster, reloader);
    await(vertx.deployVerticle(admin));
    adminPort = admin.actualPort();
    // a node joining a busy cluster opens part of what its peers hold before it turns ready; done at once otherwise
    Warmup warmup = Warmup.start(vertx, upstreams, cluster);
    state.warming(warmup::status);
    warmup.done().thenAccept(outcome -> {
      state.warmedUp(outcome.describe());
      if (outcome.ran()) {
        log.info("{}; ready", outcome.describe());
      }
    });
    log.info("keepgate serving proxy={}:{} admin={}:{} eventLoops={} upstreams={} routes={}", config.server().host(),
        proxyPort, config.admin().host(), adminPort, loops.size(), config.upstreams().size(), config.routes().size());
    if (proxy.tlsPort() >= 0) {
      log.info("keepgate serving tls={}:{}", config.server().host(), proxy.tlsPort());
    }
  }

  /**
   * Applies a valid new config without dropping a request: unchanged upstreams keep their pools
   * and pooled connections, changed and removed ones drain (idle connections close now, leased
   * ones when their exchange ends), and the new routes take the next request. Listener, admin,
   * access-log and cluster settings need a restart; the returned list names those that changed.
   * Called by the {@link ConfigReloader} thread only.
   */
  List<String> reload(GatewayConfig next) throws ConfigException {
    GatewayRuntime current = runtime.get();
    Upstreams upstreams = current.upstreams().reconcile(environment, next.upstreams());
    GatewayRuntime applied = new GatewayRuntime(next, upstreams, RouteTable.create(next.routes(), upstreams),
        current.version() + 1);
    runtime.set(applied);
    metrics.upstreams(upstreams.all());
    List<Upstream> retired = current.upstreams().retiredBy(upstreams);
    // a changed upstream's series go on counting its new pools; an endpoint that left the config loses them
    Upstreams.close(retired).whenComplete((v, e) -> metrics.retainEndpoints(endpointKeys(runtime.get().upstreams())));
    metrics.reloadApplied(applied.version());
    log.info("config version {} applied: {} of {} upstreams carried over with their pools, {} retired, {} routes",
        applied.version(), carriedOver(current, upstreams), upstreams.all().size(), retired.size(), next.routes().size());
    return needsRestart(current.config(), next);
  }

  void reloadRejected() {
    metrics.reloadRejected();
  }

  void reloadUnreadable() {
    metrics.reloadUnreadable();
  }

  /** The version of the running config. */
  int configVersion() {
    return runtime.get().version();
  }

  private static int carriedOver(GatewayRuntime current, Upstreams next) {
    return (int) next.all().stream().filter(u -> current.upstreams().get(u.name()) == u).count();
  }

  private static List<String> needsRestart(GatewayConfig current, GatewayConfig next) {
    List<String> changed = new ArrayList<>();
    if (!current.server().equals(next.server())) {
      changed.add("server");
    }
    if (!current.admin().equals(next.admin())) {
      changed.add("admin");
    }
    if (!current.accessLog().equals(next.accessLog())) {
      changed.add("accessLog");
    }
    if (!current.cluster().equals(next.cluster())) {
      changed.add("cluster");
    }
    return changed;
  }

  private static Set<String> endpointKeys(Upstreams upstreams) {
    Set<String> keys = new HashSet<>();
    for (Upstream upstream : upstreams.all()) {
      for (UpstreamEndpoint endpoint : upstream.endpoints()) {
        keys.add(GatewayMetrics.key(upstream.name(), endpoint.address().toString()));
      }
      for (UpstreamEndpoint endpoint : upstream.drainingEndpoints()) {
        keys.add(GatewayMetrics.key(upstream.name(), endpoint.address().toString()));
      }
    }
    return keys;
  }

  /** This node's part of the cluster view: its config version and pools. */
  private JsonObject poolSnapshot() {
    GatewayRuntime current = runtime.get();
    return new JsonObject()
        .put("configVersion", current.version())
        .put("upstreams", PoolsView.of(current.upstreams()).getJsonObject("upstreams"));
  }

  /**
   * Graceful stop: readiness turns 503, listeners stop accepting, in-flight requests get
   * {@code server.drainTimeoutMs} to finish, then the pools close, the node leaves the cluster and
   * Vert.x closes. Blocks until done.
   */
  public void drain() {
    state.setReady(false);
    if (reloader != null) {
      reloader.stop();
    }
    long drainMillis = runtime.get().config().server().drainTimeout().toMillis();
    log.info("draining: in-flight requests have {} ms", drainMillis);
    try {
      proxy.drain().get(drainMillis, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      log.warn("drain did not complete within {} ms; closing the connections left", drainMillis);
      proxy.closeAll();
    }
    try {
      runtime.get().upstreams().close().get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("upstream pools did not close cleanly: {}", e.toString());
    }
    accessLog.close();
    cluster.leave();
    try {
      vertx.close().await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("vert.x close did not complete: {}", e.toString());
    }
    log.info("stopped");
  }

  /** The TLS listener's port, or -1 when {@code server.tls} is off. */
  public int tlsPort() {
    return proxy.tlsPort();
  }

  public int proxyPort() {
    return proxyPort;
  }

  public int adminPort() {
    return adminPort;
  }

  /** The upstreams of the running config. */
  public Upstreams upstreams() {
    return runtime.get().upstreams();
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
