package io.keepgate.upstream;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one endpoint pool, readable from any thread (metrics scrape, admin API).
 *
 * <p>Threading: written by the pool's home event loop, except {@code retries} (a {@link LongAdder},
 * counted by exchanges on their own loops); the atomics exist so that readers on other threads see
 * current values. Nothing here is used for pool decisions.
 */
public final class EndpointStats {
  final AtomicInteger active = new AtomicInteger();
  final AtomicInteger idle = new AtomicInteger();
  final AtomicInteger pending = new AtomicInteger();
  final LongAdder opened = new LongAdder();
  final LongAdder connectFailures = new LongAdder();
  final LongAdder requests = new LongAdder();
  final LongAdder retries = new LongAdder();
  /** The endpoint's health verdict; read by the balancer on every request. */
  volatile boolean healthy = true;
  private final EnumMap<CloseReason, LongAdder> closed = new EnumMap<>(CloseReason.class);
  /** The pools of this endpoint (one per event loop, old and new across a reload): the gauges sum them. */
  private final CopyOnWriteArrayList<PoolGauges> pools = new CopyOnWriteArrayList<>();

  EndpointStats() {
    for (CloseReason reason : CloseReason.values()) {
      closed.put(reason, new LongAdder());
    }
  }

  void attach(PoolGauges pool) {
    pools.add(pool);
  }

  void detach(PoolGauges pool) {
    pools.remove(pool);
  }

  void countClosed(CloseReason reason) {
    closed.get(reason).increment();
  }

  /** Connections leased to a request right now. */
  public int active() {
    int sum = active.get();
    for (PoolGauges pool : pools) {
      sum += pool.active();
    }
    return sum;
  }

  /** Connections in the pool waiting for a request. */
  public int idle() {
    int sum = idle.get();
    for (PoolGauges pool : pools) {
      sum += pool.idle();
    }
    return sum;
  }

  /** Requests waiting for a connection. */
  public int pending() {
    int sum = pending.get();
    for (PoolGauges pool : pools) {
      sum += pool.pending();
    }
    return sum;
  }

  /** Whether the endpoint takes traffic (not ejected). */
  public boolean healthy() {
    return healthy;
  }

  /** Connections opened since start. */
  public long opened() {
    return opened.sum();
  }

  /** Connection attempts that failed since start. */
  public long connectFailures() {
    return connectFailures.sum();
  }

  /** Requests sent to this endpoint since start (one per lease). */
  public long requests() {
    return requests.sum();
  }

  /** Requests retried on another connection after this endpoint closed a reused one (the keep-alive race). */
  public long retries() {
    return retries.sum();
  }

  /** Connections closed with this reason since start. */
  public long closed(CloseReason reason) {
    return closed.get(reason).sum();
  }

  /** Connections closed since start, by reason. */
  public Map<CloseReason, Long> closedByReason() {
    EnumMap<CloseReason, Long> copy = new EnumMap<>(CloseReason.class);
    closed.forEach((reason, count) -> copy.put(reason, count.sum()));
    return copy;
  }
}
