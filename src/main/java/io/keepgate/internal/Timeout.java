package io.keepgate.internal;

/**
 * One pending timeout, owned by a connection or an exchange and re-armed for its whole life: a
 * node of at most one {@link TimeoutList} at a time, so arming and cancelling allocate nothing.
 *
 * <p>Threading: confined to the event loop of the list it is armed in.
 */
public final class Timeout {

  /** What a timeout does when its deadline passes; owners implement it, so arming one allocates nothing. */
  @FunctionalInterface
  public interface Expiry {
    void expired();
  }

  private final Expiry onExpiry;
  TimeoutList list;
  Timeout prev;
  Timeout next;
  long deadlineNanos;

  /** @param onExpiry runs on the loop when the deadline passes, after the timeout left its list */
  public Timeout(Expiry onExpiry) {
    this.onExpiry = onExpiry;
  }

  /** Whether it is armed in a list. */
  public boolean armed() {
    return list != null;
  }

  /** Disarms it; a no-op when it is not armed. */
  public void cancel() {
    if (list != null) {
      list.unlink(this);
    }
  }

  void expire() {
    onExpiry.expired();
  }
}
