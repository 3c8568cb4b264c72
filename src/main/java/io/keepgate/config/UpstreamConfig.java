package io.keepgate.config;

import java.time.Duration;
import java.util.List;

/** One named group of interchangeable backend endpoints with its own pool and TCP keepalive settings. */
public record UpstreamConfig(
    String name,
    List<Endpoint> endpoints,
    LoadBalancing loadBalancer,
    PoolConfig pool,
    TcpKeepAliveConfig tcpKeepAlive,
    Duration responseTimeout,
    HealthCheckConfig healthCheck) {

  /** round-robin. */
  public static final LoadBalancing DEFAULT_LOAD_BALANCER = LoadBalancing.ROUND_ROBIN;
  /** 30 s. */
  public static final Duration DEFAULT_RESPONSE_TIMEOUT = Duration.ofSeconds(30);

  public UpstreamConfig {
    endpoints = List.copyOf(endpoints);
  }
}
