package io.keepgate.routing;

import io.keepgate.config.RouteConfig;
import io.keepgate.upstream.Upstream;
import java.time.Duration;

/**
 * A compiled route: match criteria plus the upstream it forwards to. Matching itself is done by
 * {@link RouteTable}, which indexes the criteria of all routes at once.
 *
 * <p>Threading: immutable.
 */
public final class Route {
  private final RouteConfig config;
  private final Upstream upstream;

  Route(RouteConfig config, Upstream upstream) {
    this.config = config;
    this.upstream = upstream;
  }

  public String name() {
    return config.name();
  }

  public Upstream upstream() {
    return upstream;
  }

  /** The Host header to send upstream instead of the client's, or empty to keep the client's. */
  public String hostRewrite() {
    return config.hostRewrite();
  }

  /**
   * How long either direction of a long-lived stream on this route may stay silent
   * ({@link Duration#ZERO}: forever), or null when the usual HTTP timeouts apply.
   */
  public Duration streamIdleTimeout() {
    return config.streamIdleTimeout();
  }

  /** The path to forward: {@code stripPrefix} removed, never empty. */
  public String upstreamUri(String uri) {
    String prefix = config.stripPrefix();
    if (prefix.isEmpty() || !uri.startsWith(prefix)) {
      return uri;
    }
    String rest = uri.substring(prefix.length());
    return rest.isEmpty() || rest.charAt(0) != '/' ? "/" + rest : rest;
  }
}
