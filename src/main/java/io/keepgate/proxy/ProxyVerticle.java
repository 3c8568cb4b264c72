package io.keepgate.proxy;

import io.keepgate.config.ServerConfig;
import io.keepgate.internal.Loop;
import io.keepgate.metrics.AccessLog;
import io.keepgate.metrics.GatewayMetrics;
import io.keepgate.routing.RouteTable;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.internal.VertxInternal;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Wiring only: starts the proxy listener on the gateway's event loops and stops it. The data plane
 * is plain Netty (keepgate's own HTTP/1.1 handlers on Vert.x's loops); Vert.x's HTTP server and
 * client serve the admin listener and health probes.
 */
public final class ProxyVerticle extends VerticleBase {
  private final ServerConfig config;
  private final List<ProxyLoop> loops;
  private final AcceptGuard acceptGuard;
  private ProxyServer server;
  private int port;

  /**
   * @param loops  the gateway's event loops, in index order
   * @param routes the routes of the running config, read per request
   */
  public ProxyVerticle(ServerConfig config, List<Loop> loops, Supplier<RouteTable> routes, GatewayMetrics metrics,
      AccessLog accessLog) {
    this.config = config;
    ProxyContext context = new ProxyContext(config, routes, ConnectionLimit.forThisProcess(config.maxConnections()),
        metrics, accessLog);
    this.acceptGuard = new AcceptGuard(metrics);
    this.loops = loops.stream().map(loop -> new ProxyLoop(loop, context)).toList();
  }

  @Override
  public Future<?> start() {
    VertxInternal internal = (VertxInternal) vertx;
    server = new ProxyServer(config, loops, internal.nettyEventLoopGroup(),
        internal.transport().serverChannelFactory(false), vertx.isNativeTransportEnabled(), acceptGuard);
    return Future.fromCompletionStage(server.bind().thenAccept(bound -> port = bound), context);
  }

  @Override
  public Future<?> stop() {
    return Future.fromCompletionStage(server.close(), context);
  }

  /** The port the listener bound. */
  public int port() {
    return port;
  }

  /**
   * Drains every loop: listeners stop accepting, idle connections close, busy ones close after their
   * response. Completes when no client connection is left.
   */
  public CompletableFuture<Void> drain() {
    return server.close().thenCompose(v ->
        CompletableFuture.allOf(loops.stream().map(ProxyLoop::drain).toArray(CompletableFuture[]::new)));
  }

  /** Closes whatever client connections a drain left open. */
  public void closeAll() {
    loops.forEach(ProxyLoop::closeAll);
  }
}
