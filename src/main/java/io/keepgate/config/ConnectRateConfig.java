package io.keepgate.config;

/**
 * How fast new connections to each endpoint of an upstream may open, for the whole cluster
 * ({@code upstreams[].pool.connectRate}): a token bucket per endpoint whose rate and size are split
 * among the members as {@code maxConnectionsTotal} is, so a cold start, a scale-out or a backend
 * restart reaches the backend as a paced stream of handshakes instead of replicas x pool size at once.
 *
 * @param perSecond new connections per endpoint per second, all members together; 0 = unpaced
 * @param burst     connects that may start back to back when no connect was made for a while, all
 *                  members together (each member's bucket holds at least one)
 */
public record ConnectRateConfig(int perSecond, int burst) {
  /** {@value}: unpaced. */
  public static final int DEFAULT_PER_SECOND = 0;
  /** {@value}. */
  public static final int DEFAULT_BURST = 1;
  /** Upper bound of both keys: a million connects a second is no pacing at all. */
  public static final int MAX = 1_000_000;

  public static final ConnectRateConfig OFF = new ConnectRateConfig(DEFAULT_PER_SECOND, DEFAULT_BURST);

  /** Whether connects are paced at all. */
  public boolean paced() {
    return perSecond > 0;
  }
}
