package io.keepgate.proxy;

import io.keepgate.config.ServerConfig;
import io.keepgate.metrics.AccessLog;
import io.keepgate.metrics.GatewayMetrics;
import io.keepgate.routing.RouteTable;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * What every client connection works with: the listener's settings, the routes of the running
 * config (read per request, so a reload takes the next one), the limit on open connections,
 * metrics, the access log, and the TLS listener's bound port (for redirects).
 *
 * <p>Threading: shared by every event loop; the limit is lock-free, the rest immutable.
 */
record ProxyContext(ServerConfig server, Supplier<RouteTable> routes, ConnectionLimit limit, GatewayMetrics metrics,
    AccessLog accessLog, AtomicInteger tlsPort) {

  /** The port cleartext requests are redirected to, or -1 when they are served ({@code server.tls.redirectCleartext}). */
  int httpsRedirectPort() {
    return server.tls().redirectCleartext() ? tlsPort.get() : -1;
  }
}
