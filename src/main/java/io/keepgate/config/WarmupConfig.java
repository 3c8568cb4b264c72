package io.keepgate.config;

import java.time.Duration;

/**
 * The warm hand-off of a node that joins a cluster under load ({@code upstreams[].pool.warmup}):
 * before it turns ready, it opens a part of the connections the other members hold to each
 * endpoint, so that its first requests find pooled connections.
 *
 * @param percent what share, in percent, of the connections an average other member holds to an
 *                endpoint this node opens before it turns ready; 0 = off
 * @param timeout readiness waits for the warmup at most this long
 */
public record WarmupConfig(int percent, Duration timeout) {
  /** {@value}: off. */
  public static final int DEFAULT_PERCENT = 0;
  /** 10 s. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

  public static final WarmupConfig OFF = new WarmupConfig(DEFAULT_PERCENT, DEFAULT_TIMEOUT);

  public boolean enabled() {
    return percent > 0;
  }
}
