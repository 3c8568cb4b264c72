package io.keepgate.internal;

/**
 * Timeouts that all have the same duration, kept in arming order: the head always expires first,
 * so arming, re-arming and cancelling are O(1) and expiring costs one comparison per loop tick.
 * This replaces a scheduled task (and a promise per write) per connection.
 *
 * <p>Threading: confined to one event loop; {@link #expire} is called by that loop's
 * {@link LoopTimers} tick, or by a unit test with a ticker of its own.
 */
public final class TimeoutList {
  private final long durationNanos;
  private Timeout head;
  private Timeout tail;
  private int size;

  public TimeoutList(long durationNanos) {
    this.durationNanos = durationNanos;
  }

  public long durationNanos() {
    return durationNanos;
  }

  /** Arms (or re-arms) {@code timeout} to expire {@link #durationNanos} after {@code nowNanos}. */
  public void arm(Timeout timeout, long nowNanos) {
    timeout.cancel();
    timeout.deadlineNanos = nowNanos + durationNanos;
    timeout.list = this;
    timeout.prev = tail;
    if (tail == null) {
      head = timeout;
    } else {
      tail.next = timeout;
    }
    tail = timeout;
    size++;
  }

  /** Fires every timeout whose deadline is not after {@code nowNanos}, oldest first. */
  public void expire(long nowNanos) {
    while (head != null && head.deadlineNanos - nowNanos <= 0) {
      Timeout expired = head;
      unlink(expired);
      expired.expire();
    }
  }

  /** Armed timeouts, for tests and gauges. */
  public int size() {
    return size;
  }

  void unlink(Timeout timeout) {
    if (timeout.prev == null) {
      head = timeout.next;
    } else {
      timeout.prev.next = timeout.next;
    }
    if (timeout.next == null) {
      tail = timeout.prev;
    } else {
      timeout.next.prev = timeout.prev;
    }
    timeout.prev = null;
    timeout.next = null;
    timeout.list = null;
    size--;
  }
}
