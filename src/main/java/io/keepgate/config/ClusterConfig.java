package io.keepgate.config;

import java.time.Duration;
import java.util.List;

/**
 * Embedded Hazelcast cluster membership: nodes share endpoint health, pool snapshots and the split
 * of each upstream's {@code maxConnectionsTotal}.
 *
 * @param enabled              run an embedded member; off starts no Hazelcast at all
 * @param name                 cluster name: keeps clusters on one network apart
 * @param host                 interface the member binds (and only that one); empty = $POD_IP, else 127.0.0.1
 * @param port                 member port
 * @param members              static members ({@code host:port}) to join
 * @param kubernetesServiceDns headless service for Kubernetes DNS discovery; replaces {@code members}
 * @param lease                how long a member's hold on its budget shares lasts without renewal: the
 *                             survivors of a frozen or partitioned member take its share over this
 *                             long (plus 3 s) after it left their view
 */
public record ClusterConfig(boolean enabled, String name, String host, int port, List<Endpoint> members,
    String kubernetesServiceDns, Duration lease) {

  /** {@value}. */
  public static final boolean DEFAULT_ENABLED = false;
  /** {@value}. */
  public static final String DEFAULT_NAME = "keepgate";
  /** Empty: $POD_IP when set (Kubernetes downward API), else 127.0.0.1. */
  public static final String DEFAULT_HOST = "";
  /** {@value}. */
  public static final int DEFAULT_PORT = 5701;
  /** 15 s: a frozen member's sockets stay open at the backend; most freezes (GC, node pressure) end sooner. */
  public static final Duration DEFAULT_LEASE = Duration.ofSeconds(15);

  public ClusterConfig {
    members = List.copyOf(members);
  }

  /** The interface to bind: {@code host}, else $POD_IP, else 127.0.0.1. */
  public String effectiveHost() {
    if (!host.isEmpty()) {
      return host;
    }
    String podIp = System.getenv("POD_IP");
    return podIp != null && !podIp.isBlank() ? podIp : "127.0.0.1";
  }
}
