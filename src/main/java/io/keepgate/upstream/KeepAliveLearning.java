package io.keepgate.upstream;

import io.keepgate.config.KeepAliveLearningConfig;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * What keepgate knows of one endpoint's HTTP keep-alive timeout, and the idle timeout its pools use
 * because of it. Most backends never announce their timeout ({@code Keep-Alive: timeout=N} is
 * optional), so it is learned from how their connections end: an idle pooled connection closed by
 * the backend, and a reused connection closed before any response byte (the keep-alive race), each
 * tell the idle age at which the backend gives up on a connection.
 *
 * <p>The backend's timeout is taken as the median of the last {@value #WINDOW} such ages, once
 * {@value #MIN_OBSERVATIONS} were seen: one early close (a restart, a request limit) moves a median
 * of several little. Closes within {@value #BURST_MILLIS} ms of each other count once, with the
 * longest age: a restart closes every idle connection at once, whatever their ages, and so tells
 * one thing, not many. Ages below {@code minIdleTimeoutMs} are not taken for a timeout at all. The
 * cluster's value, learned by any node, counts as well: the lower of the two wins. The pools close
 * idle connections at that timeout less the margin of an announced one ({@link KeepAliveHeader}),
 * never above {@code idleTimeoutMs} nor below {@code minIdleTimeoutMs}. An announced timeout still
 * wins for the connection that announced it (the pool keeps its own deadline).
 *
 * <p>Threading: observations come from every event loop of the endpoint, once per backend close, and
 * the cluster's value from its listener thread: both synchronized. The idle timeout the pools read on
 * every sweep is a volatile field.
 */
final class KeepAliveLearning {
  static final int MIN_OBSERVATIONS = 3;
  static final int WINDOW = 5;
  static final long BURST_MILLIS = 100;

  private final Duration configured;
  private final KeepAliveLearningConfig config;
  private final long[] recentAges = new long[WINDOW];
  private int observations;
  private long lastObservedNanos;
  /** The timeout learned here, or -1. */
  private long ownNanos = -1;
  /** The timeout the cluster holds (learned by any node), or -1. */
  private long clusterNanos = -1;
  private volatile long idleTimeoutNanos;
  private volatile long backendTimeoutNanos = -1;

  KeepAliveLearning(Duration configured, KeepAliveLearningConfig config) {
    this.configured = configured;
    this.config = config;
    this.idleTimeoutNanos = configured.toNanos();
  }

  /**
   * A connection idle for {@code idleAgeNanos} was closed by the backend at {@code nowNanos}. Returns the
   * timeout learned here in milliseconds when it changed and is below the cluster's (for the caller to
   * publish), else -1.
   */
  synchronized long observe(long nowNanos, long idleAgeNanos) {
    if (!config.enabled() || idleAgeNanos < config.minIdleTimeout().toNanos()) {
      return -1;
    }
    if (observations > 0 && nowNanos - lastObservedNanos < TimeUnit.MILLISECONDS.toNanos(BURST_MILLIS)) {
      int last = (observations - 1) % WINDOW; // the same burst: one observation, its longest age
      recentAges[last] = Math.max(recentAges[last], idleAgeNanos);
    } else {
      recentAges[observations++ % WINDOW] = idleAgeNanos;
    }
    lastObservedNanos = nowNanos;
    if (observations < MIN_OBSERVATIONS) {
      return -1;
    }
    long[] window = Arrays.copyOf(recentAges, Math.min(observations, WINDOW));
    Arrays.sort(window);
    // in whole milliseconds, as the cluster carries it: every node computes the same idle timeout
    long median = TimeUnit.MILLISECONDS.toNanos(TimeUnit.NANOSECONDS.toMillis(window[window.length / 2]));
    if (median == ownNanos) {
      return -1;
    }
    ownNanos = median;
    update();
    return clusterNanos < 0 || ownNanos < clusterNanos ? TimeUnit.NANOSECONDS.toMillis(ownNanos) : -1;
  }

  /** The cluster's learned timeout for this endpoint (published by this node or another). Returns whether it changed. */
  synchronized boolean adoptCluster(long millis) {
    long nanos = TimeUnit.MILLISECONDS.toNanos(millis);
    if (!config.enabled() || nanos == clusterNanos) {
      return false;
    }
    clusterNanos = nanos;
    update();
    return true;
  }

  private void update() {
    long backend = ownNanos < 0 ? clusterNanos : clusterNanos < 0 ? ownNanos : Math.min(ownNanos, clusterNanos);
    backendTimeoutNanos = backend;
    if (backend < 0) {
      idleTimeoutNanos = configured.toNanos();
      return;
    }
    long margin = TimeUnit.MILLISECONDS.toNanos(KeepAliveHeader.marginMillis(TimeUnit.NANOSECONDS.toMillis(backend)));
    long safe = Math.max(config.minIdleTimeout().toNanos(), backend - margin);
    idleTimeoutNanos = Math.min(configured.toNanos(), safe);
  }

  /** The idle timeout the pools apply to connections whose backend announced none. */
  long idleTimeoutNanos() {
    return idleTimeoutNanos;
  }

  /** The backend's keep-alive timeout as learned (here or in the cluster), in milliseconds; -1 while unknown. */
  long backendTimeoutMillis() {
    long nanos = backendTimeoutNanos;
    return nanos < 0 ? -1 : TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  /** Where the idle timeout comes from: {@code configured}, {@code learned} (here) or {@code cluster} (another node). */
  synchronized String source() {
    if (backendTimeoutNanos < 0) {
      return "configured";
    }
    return backendTimeoutNanos == ownNanos ? "learned" : "cluster";
  }
}
