package io.keepgate.config;

import java.time.Duration;
import java.util.List;

/**
 * An upstream's endpoints from DNS ({@code upstreams[].discovery.dns}): every A and AAAA record of
 * {@code name} is an endpoint on {@code port}.
 *
 * @param name    the name to resolve: a headless Service, or any name with several records
 * @param port    the endpoints' port
 * @param refresh how often the name is resolved again; a shorter record TTL shortens it
 * @param servers DNS servers ({@code host:port}) to ask; empty = the system's resolver configuration
 */
public record DnsDiscoveryConfig(String name, int port, Duration refresh, List<Endpoint> servers)
    implements DiscoveryConfig {

  /** 5 s. */
  public static final Duration DEFAULT_REFRESH = Duration.ofSeconds(5);

  public DnsDiscoveryConfig {
    servers = List.copyOf(servers);
  }

  @Override
  public String source() {
    return "dns";
  }
}
