package io.keepgate.config;

import java.time.Duration;
import java.util.List;

/**
 * One named group of interchangeable backend endpoints with its own pool and TCP keepalive settings.
 *
 * @param perTryTimeout an idempotent request without a body that has no response byte this long
 *                      after it was sent goes once more to another endpoint; {@link Duration#ZERO} = off
 * @param tls           TLS to the endpoints
 * @param discovery     where the endpoints come from instead of {@code endpoints} (then empty), or null
 * @param slowStart     a new endpoint's share of new requests ramps up over this long; {@link Duration#ZERO} = off
 * @param protocol      what the endpoints speak: HTTP/1.1, or HTTP/2 over TLS or cleartext
 * @param http2Ping     the PING probe of HTTP/2 connections (unused for HTTP/1.1)
 * @param retryBudget   the cluster-wide budget of the upstream's retries
 */
public record UpstreamConfig(
    String name,
    List<Endpoint> endpoints,
    LoadBalancing loadBalancer,
    PoolConfig pool,
    TcpKeepAliveConfig tcpKeepAlive,
    Duration responseTimeout,
    Duration perTryTimeout,
    HealthCheckConfig healthCheck,
    UpstreamTlsConfig tls,
    DiscoveryConfig discovery,
    Duration slowStart,
    UpstreamProtocol protocol,
    Http2PingConfig http2Ping,
    RetryBudgetConfig retryBudget) {

  /** round-robin. */
  public static final LoadBalancing DEFAULT_LOAD_BALANCER = LoadBalancing.ROUND_ROBIN;
  /** 30 s. */
  public static final Duration DEFAULT_RESPONSE_TIMEOUT = Duration.ofSeconds(30);
  /** Off. */
  public static final Duration DEFAULT_PER_TRY_TIMEOUT = Duration.ZERO;
  /** Off. */
  public static final Duration DEFAULT_SLOW_START = Duration.ZERO;
  /** HTTP/1.1. */
  public static final UpstreamProtocol DEFAULT_PROTOCOL = UpstreamProtocol.HTTP_1_1;

  public UpstreamConfig {
    endpoints = List.copyOf(endpoints);
  }
}
