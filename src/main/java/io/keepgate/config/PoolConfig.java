package io.keepgate.config;

import java.time.Duration;

/**
 * HTTP keep-alive connection pool limits of one upstream (application-layer connection reuse).
 *
 * @param maxConnectionsPerEndpoint connections this node holds to one endpoint, whatever its event loops
 * @param maxConnectionsTotal       cluster-wide budget for the upstream; 0 = unlimited
 * @param maxPendingRequests        requests that may wait for a connection per endpoint; more get 503
 * @param pendingTimeout            how long a request waits for a connection before 503
 * @param idleTimeout               an idle pooled connection is closed after this long
 * @param maxLifetime               a connection retires after this long (with jitter); zero = never
 * @param maxRequestsPerConnection  a connection retires after this many requests; 0 = no limit
 * @param connectTimeout            TCP connect timeout
 * @param keepAliveLearning         learning the backend's own keep-alive timeout, to stay below it
 * @param connectRate               new connections per endpoint per second, cluster-wide; unpaced by default
 * @param warmup                    connections opened before readiness when joining a busy cluster; off by default
 */
public record PoolConfig(
    int maxConnectionsPerEndpoint,
    int maxConnectionsTotal,
    int maxPendingRequests,
    Duration pendingTimeout,
    Duration idleTimeout,
    Duration maxLifetime,
    int maxRequestsPerConnection,
    Duration connectTimeout,
    KeepAliveLearningConfig keepAliveLearning,
    ConnectRateConfig connectRate,
    WarmupConfig warmup) {

  /** {@value}. */
  public static final int DEFAULT_MAX_CONNECTIONS_PER_ENDPOINT = 64;
  /** {@value}: unlimited. */
  public static final int DEFAULT_MAX_CONNECTIONS_TOTAL = 0;
  /** {@value}. */
  public static final int DEFAULT_MAX_PENDING_REQUESTS = 1024;
  /** 5 s. */
  public static final Duration DEFAULT_PENDING_TIMEOUT = Duration.ofSeconds(5);
  /** 30 s. */
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);
  /** Zero: connections never retire by age. */
  public static final Duration DEFAULT_MAX_LIFETIME = Duration.ZERO;
  /** {@value}: no limit. */
  public static final int DEFAULT_MAX_REQUESTS_PER_CONNECTION = 0;
  /** 2 s. */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(2);
}
