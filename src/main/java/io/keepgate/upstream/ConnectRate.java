package io.keepgate.upstream;

import io.keepgate.cluster.ClusterState;
import io.keepgate.config.ConnectRateConfig;
import io.keepgate.internal.LoopTimers;
import io.keepgate.internal.Ticker;
import java.util.function.BooleanSupplier;
import java.util.function.IntUnaryOperator;

/**
 * How fast this node may open connections to one endpoint ({@code upstreams[].pool.connectRate}):
 * a token bucket shared by the endpoint's pools on every event loop. A pool takes a token before
 * each connect, and a failed connect keeps its token spent, so a restarting backend sees a paced
 * stream of attempts, not a storm.
 *
 * <p>The cluster-wide rate and burst are split among the members the way
 * {@code maxConnectionsTotal} is ({@link ClusterState#shareOf}), in thousandths of a connect so
 * that a rate below the member count still gives every member a part (10 per second among 3
 * members: 3.334, 3.333 and 3.333), and the parts add up to the configured rate. A bucket holds at
 * least one token (a node must be able to connect at all) and at least what its rate brings in one
 * {@link LoopTimers#TICK} (a refused pool retries on its loop's tick, so a smaller bucket would cap
 * the rate below its share). Over any window of {@code t} seconds the members together start at
 * most {@code perSecond * t} connects plus the sum of their bucket sizes: {@code burst}, or one per
 * member when {@code burst} is smaller than the member count. A node whose lease on its shares has
 * lapsed (frozen, cut off) falls back to one connect per second, as its budget falls to one
 * connection. The rate is read from the cluster on every take, so a member joining or leaving
 * changes it at once; tokens above a shrunken bucket are dropped.
 *
 * <p>Threading: any thread. Each take holds this bucket's lock for a few arithmetic operations and
 * two local reads of the cluster's split; it runs only when a pool is about to open a connection,
 * never for a request that finds a pooled one.
 */
final class ConnectRate {
  /** No pacing: every take is granted at once. */
  static final ConnectRate UNPACED = new ConnectRate(ConnectRateConfig.OFF, total -> total, () -> true, () -> 0L);
  /** Connects per second a node whose lease has lapsed may open (its budget falls to one connection likewise). */
  static final double LAPSED_PER_SECOND = 1.0;
  /** The split is computed in thousandths of a connect. */
  private static final int MILLI = 1000;
  private static final double NANOS_PER_SECOND = 1e9;

  private final ConnectRateConfig config;
  private final IntUnaryOperator shareOf;
  private final BooleanSupplier leaseValid;
  private final Ticker ticker;
  private double tokens;
  private long refilledAtNanos;
  private boolean started;

  /**
   * @param shareOf    this node's part of a cluster-wide total ({@link ClusterState#shareOf})
   * @param leaseValid whether this node's lease on its shares holds ({@link ClusterState#leaseValid})
   */
  ConnectRate(ConnectRateConfig config, IntUnaryOperator shareOf, BooleanSupplier leaseValid, Ticker ticker) {
    this.config = config;
    this.shareOf = shareOf;
    this.leaseValid = leaseValid;
    this.ticker = ticker;
  }

  /** The rate of {@code config} split across {@code cluster}, or {@link #UNPACED} when it is off. */
  static ConnectRate of(ConnectRateConfig config, ClusterState cluster, Ticker ticker) {
    return config.paced() ? new ConnectRate(config, cluster::shareOf, cluster::leaseValid, ticker) : UNPACED;
  }

  boolean paced() {
    return config.paced();
  }

  /** This node's part of the rate now, in connects per second; 0 when unpaced. */
  double perSecond() {
    if (!config.paced()) {
      return 0;
    }
    if (!leaseValid.getAsBoolean()) {
      return Math.min(config.perSecond(), LAPSED_PER_SECOND);
    }
    return Math.max(1, shareOf.applyAsInt(config.perSecond() * MILLI)) / (double) MILLI;
  }

  /** How many tokens this node's bucket holds when full, at {@code rate}. */
  double capacity(double rate) {
    double burst = leaseValid.getAsBoolean() ? shareOf.applyAsInt(config.burst() * MILLI) / (double) MILLI : 1;
    return Math.max(1, Math.max(burst, rate * LoopTimers.TICK.toNanos() / NANOS_PER_SECOND));
  }

  /** Takes a token for one connect: 0 when granted, else the nanoseconds until the next one is due (at least 1). */
  synchronized long tryTake() {
    if (!config.paced()) {
      return 0;
    }
    double rate = perSecond();
    refill(ticker.nanoTime(), rate);
    if (tokens >= 1) {
      tokens -= 1;
      return 0;
    }
    return Math.max(1, (long) Math.ceil((1 - tokens) * NANOS_PER_SECOND / rate));
  }

  /** Gives back a token taken for a connect that was not started after all (no permit was free). */
  synchronized void refund() {
    if (config.paced()) {
      tokens = Math.min(tokens + 1, capacity(perSecond()));
    }
  }

  /** Tokens in the bucket now; for tests. */
  synchronized double tokens() {
    if (!config.paced()) {
      return 0;
    }
    refill(ticker.nanoTime(), perSecond());
    return tokens;
  }

  private void refill(long now, double rate) {
    double capacity = capacity(rate);
    if (!started) {
      started = true;
      tokens = capacity; // a bucket starts full: the burst is what members may open at once
      refilledAtNanos = now;
      return;
    }
    long elapsed = now - refilledAtNanos;
    if (elapsed > 0) { // loops read the clock apart: an earlier reading never moves it back
      tokens += elapsed * rate / NANOS_PER_SECOND;
      refilledAtNanos = now;
    }
    tokens = Math.min(tokens, capacity);
  }
}
