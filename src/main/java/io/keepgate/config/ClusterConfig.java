package io.keepgate.config;

import java.util.List;

/** Embedded Hazelcast cluster membership (not yet implemented: enabling it is a config error). */
public record ClusterConfig(
    boolean enabled, String name, int port, List<String> members, String kubernetesServiceDns) {

  /** {@value}. */
  public static final boolean DEFAULT_ENABLED = false;
  /** {@value}. */
  public static final String DEFAULT_NAME = "keepgate";
  /** {@value}. */
  public static final int DEFAULT_PORT = 5701;

  public ClusterConfig {
    members = List.copyOf(members);
  }
}
