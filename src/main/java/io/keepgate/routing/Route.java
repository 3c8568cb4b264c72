package io.keepgate.routing;

import io.keepgate.config.RouteConfig;
import io.keepgate.upstream.Upstream;
import io.vertx.core.http.HttpMethod;

/**
 * A compiled route: match criteria plus the upstream it forwards to.
 *
 * <p>Threading: immutable.
 */
public final class Route {
  private final RouteConfig config;
  private final Upstream upstream;
  private final String exactHost;
  private final String hostSuffix;

  Route(RouteConfig config, Upstream upstream) {
    this.config = config;
    this.upstream = upstream;
    String host = config.match().host();
    this.exactHost = host.startsWith("*.") ? null : host;
    this.hostSuffix = host.startsWith("*.") ? host.substring(1) : null;
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

  boolean matches(String host, String path, HttpMethod method) {
    return matchesHost(host)
        && path.startsWith(config.match().pathPrefix())
        && (config.match().methods().isEmpty() || config.match().methods().contains(method.name()));
  }

  private boolean matchesHost(String host) {
    if (exactHost != null) {
      return exactHost.isEmpty() || exactHost.equalsIgnoreCase(host);
    }
    return host.length() > hostSuffix.length() && host.regionMatches(true, host.length() - hostSuffix.length(),
        hostSuffix, 0, hostSuffix.length());
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
