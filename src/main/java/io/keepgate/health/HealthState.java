package io.keepgate.health;

import io.keepgate.config.HealthCheckConfig;

/**
 * The health verdict of one endpoint from consecutive outcomes: {@code unhealthyThreshold}
 * failures in a row eject it, {@code healthyThreshold} successful active probes in a row readmit
 * it. Passive outcomes (real traffic) can eject but never readmit: only a probe proves an ejected
 * endpoint is back, since an ejected endpoint gets no traffic.
 *
 * <p>Threading: safe from any thread: traffic on every event loop and the prober report here.
 * Transitions are serialized by the instance's monitor; {@link #healthy} and the no-failure fast
 * path of {@link #onTrafficSuccess} read volatile fields only. The checker only reports; this
 * class decides (the caller acts on the returned transition).
 */
public final class HealthState {

  /** What an outcome did to the verdict. */
  public enum Transition { NONE, EJECTED, READMITTED }

  private final int unhealthyThreshold;
  private final int healthyThreshold;
  private volatile boolean healthy = true;
  private volatile int consecutiveFailures;
  private int consecutiveSuccesses;

  public HealthState(HealthCheckConfig config) {
    this.unhealthyThreshold = config.unhealthyThreshold();
    this.healthyThreshold = config.healthyThreshold();
  }

  public boolean healthy() {
    return healthy;
  }

  /** A connect failure, reset, timeout or dead peer, seen by traffic or by a probe. */
  public synchronized Transition onFailure() {
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
    if (consecutiveFailures != 0) {
      synchronized (this) {
        if (healthy) {
          consecutiveFailures = 0;
        }
      }
    }
  }

  /** Another node's verdict (the probe owner's, or a node that ejected it): adopted as is. */
  public synchronized Transition adopt(boolean verdict) {
    consecutiveFailures = 0;
    consecutiveSuccesses = 0;
    if (verdict == healthy) {
      return Transition.NONE;
    }
    healthy = verdict;
    return verdict ? Transition.READMITTED : Transition.EJECTED;
  }

  /** A successful active probe. */
  public synchronized Transition onProbeSuccess() {
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
