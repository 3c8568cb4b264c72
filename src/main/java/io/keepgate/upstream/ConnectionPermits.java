package io.keepgate.upstream;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A limit on connections shared by pools on different event loops: an endpoint's
 * {@code maxConnectionsPerEndpoint} (exact per node, whatever the number of loops), or this node's
 * share of an upstream's {@code maxConnectionsTotal}. A pool takes a permit before it opens a
 * connection and returns it when the connection has closed; a pool turned away is poked when a
 * permit frees or the limit grows.
 *
 * <p>Threading: lock-free, any thread. The limit changes on cluster membership events.
 */
final class ConnectionPermits {
  /** No limit. */
  static final ConnectionPermits UNLIMITED = new ConnectionPermits(Integer.MAX_VALUE);

  private final AtomicInteger taken = new AtomicInteger();
  private final Set<LoopPool> waiting = ConcurrentHashMap.newKeySet();
  private volatile int limit;

  ConnectionPermits(int limit) {
    this.limit = limit;
  }

  /** Takes a permit, or registers {@code pool} to be poked when one frees. */
  boolean tryTake(LoopPool pool) {
    if (this == UNLIMITED) {
      return true;
    }
    while (true) {
      int current = taken.get();
      if (current >= limit) {
        waiting.add(pool);
        if (taken.get() < limit && waiting.remove(pool)) {
          continue; // a permit freed between the check and the registration
        }
        return false;
      }
      if (taken.compareAndSet(current, current + 1)) {
        return true;
      }
    }
  }

  /** A connection holding a permit closed, or never opened. */
  void give() {
    if (this == UNLIMITED) {
      return;
    }
    taken.decrementAndGet();
    pokeWaiting();
  }

  /** Whether more permits are out than the limit allows: idle connections should retire. */
  boolean over() {
    return this != UNLIMITED && taken.get() > limit;
  }

  int limit() {
    return limit;
  }

  int taken() {
    return taken.get();
  }

  /** A new limit; returns whether it shrank. */
  boolean setLimit(int newLimit) {
    int old = limit;
    limit = newLimit;
    if (newLimit > old) {
      pokeWaiting();
    }
    return newLimit < old;
  }

  private void pokeWaiting() {
    for (LoopPool pool : waiting) {
      if (waiting.remove(pool)) {
        pool.poke();
      }
    }
  }
}
