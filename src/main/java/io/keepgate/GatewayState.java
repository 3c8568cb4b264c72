package io.keepgate;

/**
 * Lifecycle flags read by the admin listener.
 *
 * <p>Threading: written by the starting/stopping thread, read from any event loop; volatile
 * flags, no compound updates.
 */
public final class GatewayState {
  private volatile boolean ready;

  /** Whether the gateway serves traffic: false while starting and while draining. */
  public boolean ready() {
    return ready;
  }

  void setReady(boolean ready) {
    this.ready = ready;
  }
}
