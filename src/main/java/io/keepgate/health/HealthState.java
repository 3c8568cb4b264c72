package io.keepgate.health;

import io.keepgate.config.HealthCheckConfig;

/**
 * The health verdict of one endpoint from consecutive outcomes: {@code unhealthyThreshold}
 * failures in a row eject it, {@code healthyThreshold} successful active probes in a row readmit
 * it. Passive outcomes (real traffic) can eject but never readmit: only a probe proves an ejected
 * endpoint is back, since an ejected endpoint gets no traffic.
 *
 * <p>Threading: confined to the owning pool's home event loop. The checker only reports; this
 * class decides (the caller acts on the returned transition).
 */
public final class HealthState {

  /** What an outcome did to the verdict. */
  public enum Transition { NONE, EJECTED, READMITTED }

  private final int unhealthyThreshold;
  private final int healthyThreshold;
  private boolean healthy = true;
  private int consecutiveFailures;
  private int consecutiveSuccesses;

  public HealthState(HealthCheckConfig config) {
    this.unhealthyThreshold = config.unhealthyThreshold();
    this.healthyThreshold = config.healthyThreshold();
  }

  public boolean healthy() {
    return healthy;
  }

  /** A connect failure, reset, timeout or dead peer, seen by traffic or by a probe. */
  public Transition onFailure() {
    consecutiveSuccesses = 0;
    consecutiveFailures++;
    if (healthy && consecutiveFailures >= unhealthyThreshold) {
      healthy = false;
      return Transition.EJECTED;
    }
    return Transition.NONE;
  }

  /** A completed exchange: clears the failure streak of a healthy endpoint. */
  public void onTrafficSuccess() {
    if (healthy) {
      consecutiveFailures = 0;
    }
  }

  /** Another node's verdict (the probe owner's, or a node that ejected it): adopted as is. */
  public Transition adopt(boolean verdict) {
    consecutiveFailures = 0;
    consecutiveSuccesses = 0;
    if (verdict == healthy) {
      return Transition.NONE;
    }
    healthy = verdict;
    return verdict ? Transition.READMITTED : Transition.EJECTED;
  }

  /** A successful active probe. */
  public Transition onProbeSuccess() {
    consecutiveFailures = 0;
    consecutiveSuccesses++;
    if (!healthy && consecutiveSuccesses >= healthyThreshold) {
      healthy = true;
      consecutiveSuccesses = 0;
      return Transition.READMITTED;
    }
    return Transition.NONE;
  }
}
