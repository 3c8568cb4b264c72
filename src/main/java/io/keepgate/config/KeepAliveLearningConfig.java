package io.keepgate.config;

import java.time.Duration;

/**
 * Learning each endpoint's HTTP keep-alive timeout ({@code upstreams[].pool.keepAliveLearning}): the
 * pool watches how long idle connections live before the backend closes them, and how often a reused
 * connection closes before any response byte (the keep-alive race), and closes its own idle
 * connections safely before that. HTTP keep-alive only: TCP keepalive probes are {@code tcpKeepAlive}.
 *
 * @param enabled        whether observations lower the endpoint's idle timeout below {@code idleTimeoutMs}
 * @param minIdleTimeout the floor: a learned idle timeout never goes below it, and a backend close of a
 *                       connection idle for less than it is not taken for a keep-alive timeout
 */
public record KeepAliveLearningConfig(boolean enabled, Duration minIdleTimeout) {
  /** On: it only ever closes idle connections earlier than {@code idleTimeoutMs}. */
  public static final boolean DEFAULT_ENABLED = true;
  /** 1 s. */
  public static final Duration DEFAULT_MIN_IDLE_TIMEOUT = Duration.ofSeconds(1);

  public static final KeepAliveLearningConfig DEFAULT = new KeepAliveLearningConfig(DEFAULT_ENABLED, DEFAULT_MIN_IDLE_TIMEOUT);
}
