package io.keepgate;

import java.util.function.Supplier;

/**
 * Lifecycle flags read by the admin listener.
 *
 * <p>Threading: written by the starting/stopping thread (and by the warm hand-off's completion, on
 * a Vert.x thread), read from any event loop; volatile fields, and the two writes that must not
 * cross (a warmup ending after a drain began) synchronized.
 */
public final class GatewayState {
  private volatile boolean ready;
  private volatile boolean draining;
  /** The warm hand-off's progress while it holds readiness back; null otherwise. */
  private volatile Supplier<String> warming;
  /** How the warm hand-off ended; empty when none ran. */
  private volatile String warmedUp = "";

  /** Whether the gateway serves traffic: false while starting (warming up included) and while draining. */
  public boolean ready() {
    return ready;
  }

  /** Why readiness is held back, beside "not ready" (the warmup under way); empty for no detail. */
  public String notReadyDetail() {
    Supplier<String> progress = warming;
    return progress == null || draining ? "" : progress.get();
  }

  /** What readiness says beside "ready": how the warm hand-off ended; empty when none ran. */
  public String readyDetail() {
    return warmedUp;
  }

  synchronized void setReady(boolean ready) {
    if (!ready) {
      draining = true;
    }
    this.ready = ready && !draining;
  }

  /** A warm hand-off holds readiness back; {@code progress} says where it is. */
  void warming(Supplier<String> progress) {
    warming = progress;
  }

  /** The warm hand-off ended as {@code outcome} (empty: none ran): ready, unless a drain began meanwhile. */
  synchronized void warmedUp(String outcome) {
    warmedUp = outcome;
    warming = null;
    ready = !draining;
  }
}
