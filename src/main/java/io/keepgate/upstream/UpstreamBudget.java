package io.keepgate.upstream;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * This node's share of an upstream's {@code maxConnectionsTotal}, shared by the upstream's
 * endpoint pools (which live on different event loops). A pool reserves a slot before it opens a
 * connection and frees it when the connection closes; a pool turned away waits to be poked when
 * a slot frees. When the share shrinks (a member joined), pools retire idle connections until the
 * node fits; a connection with a request in flight is never cut.
 *
 * <p>Threading: lock-free; any thread. {@code limit} changes on cluster membership events.
 */
final class UpstreamBudget {
  /** No budget: {@code maxConnectionsTotal} is 0. */
  static final UpstreamBudget UNLIMITED = new UpstreamBudget(Integer.MAX_VALUE);

  private final AtomicInteger open = new AtomicInteger();
  private final Set<EndpointPool> waiting = ConcurrentHashMap.newKeySet();
  private volatile int limit;

  UpstreamBudget(int limit) {
    this.limit = limit;
  }

  /** Takes a slot for a new connection, or registers {@code pool} to be poked when one frees. */
  boolean tryReserve(EndpointPool pool) {
    if (this == UNLIMITED) {
      return true;
    }
    while (true) {
      int current = open.get();
      if (current >= limit) {
        waiting.add(pool);
        return false;
      }
      if (open.compareAndSet(current, current + 1)) {
        return true;
      }
    }
  }

  /** A connection holding a slot closed (or never opened). */
  void release() {
    if (this == UNLIMITED) {
      return;
    }
    open.decrementAndGet();
    pokeWaiting();
  }

  /** Whether this node holds more connections than its share: idle ones should retire. */
  boolean over() {
    return this != UNLIMITED && open.get() > limit;
  }

  int limit() {
    return limit;
  }

  int open() {
    return open.get();
  }

  /** A new share after a membership change; returns whether it shrank. */
  boolean setLimit(int newLimit) {
    int old = limit;
    limit = newLimit;
    if (newLimit > old) {
      pokeWaiting();
    }
    return newLimit < old;
  }

  private void pokeWaiting() {
    for (EndpointPool pool : waiting) {
      waiting.remove(pool);
      pool.poke();
    }
  }
}
