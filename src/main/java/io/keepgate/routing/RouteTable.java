package io.keepgate.routing;

import io.keepgate.config.RouteConfig;
import io.keepgate.upstream.Upstreams;
import io.vertx.core.http.HttpMethod;
import java.util.List;

/**
 * The routes of one config, tried in order; the first match wins.
 *
 * <p>Threading: immutable snapshot, shared by all proxy event loops.
 */
public final class RouteTable {
  private final List<Route> routes;

  private RouteTable(List<Route> routes) {
    this.routes = routes;
  }

  /** Compiles routes against the running upstreams (validated config: every upstream exists). */
  public static RouteTable create(List<RouteConfig> configs, Upstreams upstreams) {
    return new RouteTable(configs.stream().map(c -> new Route(c, upstreams.get(c.upstream()))).toList());
  }

  /**
   * The first route matching the request, or {@code null}.
   *
   * @param host the Host header without its port, may be empty
   * @param path the request path, without the query
   */
  public Route match(String host, String path, HttpMethod method) {
    for (Route route : routes) {
      if (route.matches(host, path, method)) {
        return route;
      }
    }
    return null;
  }
}
