package io.keepgate.upstream;

import io.keepgate.internal.Ticker;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The ramp of an endpoint that joined a serving upstream ({@code upstreams[].slowStartMs}): for
 * the window after it joined, a request the balancer gives it goes there with a probability that
 * grows linearly from {@link #MIN_SHARE} to 1, and to the next endpoint that is not ramping
 * otherwise, so a cold pod (empty caches, a JIT not yet warm) is not sent its full share at once.
 * Envoy's slow start with aggression 1.
 *
 * <p>Threading: immutable; read by every event loop.
 */
final class SlowStart {
  /** The share a new endpoint starts with: enough requests to warm it. */
  static final double MIN_SHARE = 0.1;

  private final Ticker ticker;
  private final long startNanos;
  private final long windowNanos;

  SlowStart(Ticker ticker, long windowNanos) {
    this.ticker = ticker;
    this.startNanos = ticker.nanoTime();
    this.windowNanos = windowNanos;
  }

  /** The share of its requests the endpoint takes now: {@link #MIN_SHARE} at first, 1 once the window is over. */
  double share() {
    long elapsed = ticker.nanoTime() - startNanos;
    return elapsed >= windowNanos ? 1.0 : Math.max(MIN_SHARE, (double) elapsed / windowNanos);
  }

  /** Whether the window is over. */
  boolean over() {
    return ticker.nanoTime() - startNanos >= windowNanos;
  }

  /**
   * The endpoint for a request the balancer gave {@code chosen}: {@code chosen} itself unless it is
   * ramping and loses the draw, then the next healthy endpoint that is not ramping (still
   * {@code chosen} when there is none). Allocates nothing.
   */
  static UpstreamEndpoint apply(List<UpstreamEndpoint> endpoints, UpstreamEndpoint chosen) {
    SlowStart ramp = chosen.slowStart();
    if (ramp == null) {
      return chosen;
    }
    double share = ramp.share(); // one clock read per request of a ramping endpoint
    if (share >= 1.0) {
      chosen.slowStartOver();
      return chosen;
    }
    if (ThreadLocalRandom.current().nextDouble() < share) {
      return chosen;
    }
    int at = endpoints.indexOf(chosen);
    for (int i = 1; i < endpoints.size(); i++) {
      UpstreamEndpoint next = endpoints.get((at + i) % endpoints.size());
      if (next.slowStart() == null && next.health().healthy()) {
        return next;
      }
    }
    return chosen;
  }
}
