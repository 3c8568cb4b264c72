package io.keepgate.proxy;

import io.keepgate.config.ConfigException;
import io.keepgate.config.ServerConfig;
import io.keepgate.internal.Loop;
import io.keepgate.internal.Ticker;
import io.keepgate.internal.UpstreamSockets;
import io.keepgate.metrics.AccessLog;
import io.keepgate.metrics.GatewayMetrics;
import io.keepgate.routing.RouteTable;
import io.keepgate.tls.CertificateWatcher;
import io.keepgate.tls.ServerCertificates;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.internal.VertxInternal;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
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
  /** Certificates read at construction, so that a bad pair fails the start with its JSON path. */
  private final ServerCertificates certificates;
  private final TlsTermination tls;
  private final ProxyProtocol proxyProtocol;
  private final GatewayMetrics metrics;
  private CertificateWatcher certificateWatcher;
  private final List<ProxyServer> servers = new ArrayList<>();
  private int port;
  private final AtomicInteger boundTlsPort = new AtomicInteger(-1);

  /**
   * @param loops  the gateway's event loops, in index order
   * @param routes the routes of the running config, read per request
   * @param upstreamSockets the upstream sockets, which share the file descriptors with client connections
   */
  public ProxyVerticle(ServerConfig config, List<Loop> loops, Supplier<RouteTable> routes, GatewayMetrics metrics,
      AccessLog accessLog, UpstreamSockets upstreamSockets) throws ConfigException {
    this.config = config;
    ConnectionLimit limit = ConnectionLimit.forThisProcess(config.maxConnections(), upstreamSockets::open);
    ProxyContext context = new ProxyContext(config, routes, limit, metrics, accessLog, boundTlsPort);
    this.acceptGuard = new AcceptGuard(metrics, Ticker.SYSTEM);
    this.metrics = metrics;
    this.proxyProtocol = config.proxyProtocol().enabled() ? new ProxyProtocol(config.proxyProtocol(), metrics) : null;
    if (config.tls().enabled()) {
      certificates = ServerCertificates.read(config);
      tls = new TlsTermination(certificates, config.headerReadTimeout(), metrics);
    } else {
      certificates = null;
      tls = null;
    }
    this.loops = loops.stream().map(loop -> new ProxyLoop(loop, context)).toList();
  }

  @Override
  public Future<?> start() {
    ProxyServer cleartext = server(config.port(), null);
    CompletableFuture<?> bound = cleartext.bind().thenAccept(p -> port = p);
    if (tls != null) {
      ProxyServer secure = server(config.tls().port(), tls);
      bound = bound.thenCompose(v -> secure.bind()).thenAccept(boundTlsPort::set);
      metrics.tlsCertificates(certificates.expiries());
      certificateWatcher = CertificateWatcher.start(config.tls(), certificates, tls::use, metrics);
    }
    return Future.fromCompletionStage(bound, context);
  }

  private ProxyServer server(int port, TlsTermination termination) {
    VertxInternal internal = (VertxInternal) vertx;
    ProxyServer server = new ProxyServer(config, port, termination, proxyProtocol, loops, internal.nettyEventLoopGroup(),
        internal.transport().serverChannelFactory(false), vertx.isNativeTransportEnabled(), acceptGuard);
    servers.add(server);
    return server;
  }

  @Override
  public Future<?> stop() {
    if (certificateWatcher != null) {
      certificateWatcher.close();
    }
    return Future.fromCompletionStage(closeListeners(), context);
  }

  private CompletableFuture<Void> closeListeners() {
    return CompletableFuture.allOf(servers.stream().map(ProxyServer::close).toArray(CompletableFuture[]::new));
  }

  /** The port the cleartext listener bound. */
  public int port() {
    return port;
  }

  /** The port the TLS listener bound, or -1 when there is none. */
  public int tlsPort() {
    return boundTlsPort.get();
  }

  /**
   * Drains every loop: listeners stop accepting, idle connections close, busy ones close after their
   * response. Completes when no client connection is left.
   */
  public CompletableFuture<Void> drain() {
    return closeListeners().thenCompose(v ->
        CompletableFuture.allOf(loops.stream().map(ProxyLoop::drain).toArray(CompletableFuture[]::new)));
  }

  /** Closes whatever client connections a drain left open. */
  public void closeAll() {
    loops.forEach(ProxyLoop::closeAll);
  }
}
