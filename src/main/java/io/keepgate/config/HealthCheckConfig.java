package io.keepgate.config;

import java.time.Duration;

/**
 * Endpoint health: active probes of {@code path} (none when the path is empty) and the consecutive
 * thresholds used by both active probes and passive failure counting.
 */
public record HealthCheckConfig(
    String path, Duration interval, Duration timeout, int unhealthyThreshold, int healthyThreshold) {

  /** Empty: no active probe. */
  public static final String DEFAULT_PATH = "";
  /** 5 s. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);
  /** 1 s. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(1);
  /** {@value}. */
  public static final int DEFAULT_UNHEALTHY_THRESHOLD = 3;
  /** {@value}. */
  public static final int DEFAULT_HEALTHY_THRESHOLD = 2;

  /** Whether active probes are configured. */
  public boolean activeProbesEnabled() {
    return !path.isEmpty();
  }
}
