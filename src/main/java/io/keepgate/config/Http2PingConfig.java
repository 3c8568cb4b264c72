package io.keepgate.config;

import java.time.Duration;

/**
 * HTTP/2 PING as the liveness probe of an HTTP/2 upstream's connections ({@code upstreams[].http2Ping}):
 * the HTTP/2 counterpart of TCP keepalive, answered by the backend's HTTP/2 stack itself, so it also
 * crosses proxies and load balancers that end TCP. A connection whose PING is not acknowledged within
 * {@code timeout} closes with reason {@code ping_timeout}.
 *
 * @param interval how often each connection sends a PING; {@link Duration#ZERO} = off
 * @param timeout  how long the acknowledgement may take
 */
public record Http2PingConfig(Duration interval, Duration timeout) {
  /** 10 s. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);
  /** 5 s. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

  public static final Http2PingConfig DEFAULT = new Http2PingConfig(DEFAULT_INTERVAL, DEFAULT_TIMEOUT);

  public boolean enabled() {
    return !interval.isZero();
  }
}
