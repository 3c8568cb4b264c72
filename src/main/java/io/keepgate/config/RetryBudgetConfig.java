package io.keepgate.config;

/**
 * A retry budget for one upstream across the whole cluster ({@code upstreams[].retryBudget}): the
 * retries of all nodes together (the keep-alive race, an HTTP/2 GOAWAY or refused stream, a connect
 * failure moved to another endpoint, {@code perTryTimeoutMs}) stay within {@code percent} of the
 * cluster's request rate to the upstream plus {@code minPerSecond}. A retry beyond it is not made:
 * the request fails as it would have without one.
 *
 * @param enabled      off by default: retries are what users rely on when a backend misbehaves
 * @param percent      retries per second as a percentage of the requests per second
 * @param minPerSecond retries per second allowed however few the requests, cluster-wide
 */
public record RetryBudgetConfig(boolean enabled, int percent, int minPerSecond) {
  public static final boolean DEFAULT_ENABLED = false;
  /** {@value} %. */
  public static final int DEFAULT_PERCENT = 20;
  /** {@value} per second. */
  public static final int DEFAULT_MIN_PER_SECOND = 10;

  public static final RetryBudgetConfig DEFAULT = new RetryBudgetConfig(DEFAULT_ENABLED, DEFAULT_PERCENT,
      DEFAULT_MIN_PER_SECOND);
}
