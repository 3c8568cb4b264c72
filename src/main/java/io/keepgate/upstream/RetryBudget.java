package io.keepgate.upstream;

import io.keepgate.config.RetryBudgetConfig;
import io.keepgate.internal.Ticker;
import java.util.concurrent.atomic.LongAdder;

/**
 * This node's part of an upstream's cluster-wide retry budget ({@code upstreams[].retryBudget}): a
 * token bucket each retry draws from, refilled at this node's allowance per second. About once a
 * second {@link #rebalance} sets the allowance from the requests this node routed to the upstream
 * since the last rebalance ({@link #countRequest}, first tries only) and the request rate the other members published: the cluster allows {@code percent}
 * of its request rate plus {@code minPerSecond}, and each node spends the part of it proportional
 * to its own rate (an equal part while no member has traffic), so N replicas retry no more than one
 * gateway would. The other members' rates come from their pool snapshots, which the cluster keeps
 * locally: nothing here calls the cluster.
 *
 * <p>Threading: {@link #countRequest} is called from every event loop, once per request, and adds
 * to a {@link LongAdder} (nothing at all with the budget off); {@link #tryRetry} is called only when
 * a request failed, {@link #rebalance} from one timer; both synchronized.
 */
public final class RetryBudget {
  private final RetryBudgetConfig config;
  private final Ticker ticker;
  private final LongAdder requests = new LongAdder();
  private double allowancePerSecond;
  private double tokens;
  private long refilledAtNanos;
  private double requestRate;
  private long lastRequests = -1;
  private long lastRebalanceNanos;

  RetryBudget(RetryBudgetConfig config, Ticker ticker, int members) {
    this.config = config;
    this.ticker = ticker;
    this.allowancePerSecond = (double) config.minPerSecond() / Math.max(1, members);
    this.tokens = capacity();
    this.refilledAtNanos = ticker.nanoTime();
  }

  public boolean enabled() {
    return config.enabled();
  }

  /** Whether a retry may be made now (it takes a token); always, with the budget off. */
  public synchronized boolean tryRetry() {
    if (!config.enabled()) {
      return true;
    }
    refill(ticker.nanoTime());
    if (tokens < 1) {
      return false;
    }
    tokens -= 1;
    return true;
  }

  /** A request was routed to the upstream (its first try; retries are not requests of their own). */
  public void countRequest() {
    if (config.enabled()) {
      requests.increment();
    }
  }

  /** Sets this node's allowance from the requests it routed since the last call and the request rate of the other members. */
  synchronized void rebalance(double elsewhereRate, int members) {
    long now = ticker.nanoTime();
    long requestsSent = requests.sum();
    if (lastRequests >= 0 && now > lastRebalanceNanos) {
      requestRate = (requestsSent - lastRequests) * 1e9 / (now - lastRebalanceNanos);
    }
    lastRequests = requestsSent;
    lastRebalanceNanos = now;
    refill(now);
    double clusterRate = requestRate + elsewhereRate;
    double weight = clusterRate > 0 ? requestRate / clusterRate : 1.0 / Math.max(1, members);
    allowancePerSecond = config.percent() / 100.0 * requestRate + config.minPerSecond() * weight;
    tokens = Math.min(tokens, capacity());
  }

  /** One second's allowance, and at least one retry. */
  private double capacity() {
    return Math.max(1, allowancePerSecond);
  }

  private void refill(long now) {
    tokens = Math.min(capacity(), tokens + allowancePerSecond * (now - refilledAtNanos) / 1e9);
    refilledAtNanos = now;
  }

  /** Retries this node may make per second now. */
  public synchronized double allowancePerSecond() {
    return allowancePerSecond;
  }

  /** This node's requests per second to the upstream, as of the last rebalance: what it publishes. */
  public synchronized double requestRate() {
    return requestRate;
  }
}
