package io.keepgate.config;

import java.util.List;

/**
 * The whole validated configuration. Immutable; produced only by {@link ConfigLoader}, so code on the
 * request path trusts every value in it.
 */
public record GatewayConfig(
    ServerConfig server,
    AdminConfig admin,
    AccessLogConfig accessLog,
    List<UpstreamConfig> upstreams,
    List<RouteConfig> routes,
    ClusterConfig cluster) {

  public GatewayConfig {
    upstreams = List.copyOf(upstreams);
    routes = List.copyOf(routes);
  }

  /** The upstream with this name, or {@code null}. */
  public UpstreamConfig upstream(String name) {
    for (UpstreamConfig upstream : upstreams) {
      if (upstream.name().equals(name)) {
        return upstream;
      }
    }
    return null;
  }
}
