package io.keepgate.config;

import java.time.Duration;
import java.util.Set;

/**
 * One route: requests matching {@code match} go to {@code upstream}.
 *
 * @param name        label in metrics and logs; defaults to {@code route-<index>}
 * @param stripPrefix removed from the front of the path before forwarding; empty for none
 * @param hostRewrite Host header sent upstream instead of the client's; empty keeps the client's
 * @param streamIdleTimeout for long-lived streams (gRPC streaming, server-sent events): how long
 *                    either direction of an exchange may stay silent, in place of the upstream's
 *                    {@code responseTimeoutMs} and {@code server.idleTimeoutMs} for a request body;
 *                    {@link Duration#ZERO} = never cut; {@code null} = those timeouts apply
 */
public record RouteConfig(String name, Match match, String upstream, String stripPrefix, String hostRewrite,
    Duration streamIdleTimeout) {

  /** A route for request/response traffic (no stream idle timeout). */
  public RouteConfig(String name, Match match, String upstream, String stripPrefix, String hostRewrite) {
    this(name, match, upstream, stripPrefix, hostRewrite, null);
  }

  /**
   * What a request must look like to take this route.
   *
   * @param host       exact host (case-insensitive, port ignored) or {@code *.suffix}; empty matches any
   * @param pathPrefix the path must start with this
   * @param methods    allowed methods, upper case; empty allows all
   */
  public record Match(String host, String pathPrefix, Set<String> methods) {
    /** "/": every path. */
    public static final String DEFAULT_PATH_PREFIX = "/";

    public Match {
      methods = Set.copyOf(methods);
    }
  }
}
