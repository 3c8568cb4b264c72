package io.keepgate.config;

import java.time.Duration;

/**
 * TCP keepalive (kernel liveness probes) on every upstream socket. Not to be confused with HTTP
 * keep-alive, which is {@link PoolConfig}.
 *
 * @param enabled         SO_KEEPALIVE
 * @param idleSeconds     TCP_KEEPIDLE: idle time before the first probe
 * @param intervalSeconds TCP_KEEPINTVL: time between probes
 * @param probes          TCP_KEEPCNT: unanswered probes before the kernel declares the peer dead
 * @param userTimeout     TCP_USER_TIMEOUT (native transport only): how long sent data may stay
 *                        unacknowledged; zero derives it as idle + interval x probes
 */
public record TcpKeepAliveConfig(
    boolean enabled, int idleSeconds, int intervalSeconds, int probes, Duration userTimeout) {

  /** {@value}. */
  public static final boolean DEFAULT_ENABLED = true;
  /** {@value} s. */
  public static final int DEFAULT_IDLE_SECONDS = 30;
  /** {@value} s. */
  public static final int DEFAULT_INTERVAL_SECONDS = 10;
  /** {@value}. */
  public static final int DEFAULT_PROBES = 3;
  /** Zero: derived from the keepalive timers. */
  public static final Duration DEFAULT_USER_TIMEOUT = Duration.ZERO;

  /** The time after which a silent peer is declared dead: idle + interval x probes. */
  public Duration deadPeerDetectionTime() {
    return Duration.ofSeconds(idleSeconds + (long) intervalSeconds * probes);
  }

  /** TCP_USER_TIMEOUT to apply: the configured value, or the keepalive detection time. */
  public Duration effectiveUserTimeout() {
    return userTimeout.isZero() ? deadPeerDetectionTime() : userTimeout;
  }
}
