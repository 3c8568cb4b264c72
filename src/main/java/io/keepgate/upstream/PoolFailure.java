package io.keepgate.upstream;

/** Why a request got no upstream connection. The proxy maps each kind to a status and a reason line. */
public final class PoolFailure extends RuntimeException {

  /** The kinds of acquisition failure. */
  public enum Kind {
    /** More than {@code maxPendingRequests} were already waiting. */
    PENDING_QUEUE_FULL,
    /** Waited {@code pendingTimeoutMs} without getting a connection. */
    PENDING_TIMEOUT,
    /** The TCP connect failed or timed out. */
    CONNECT_FAILED,
    /** The endpoint is ejected as unhealthy. */
    UNHEALTHY,
    /** The pool is closed (shutdown or reload). */
    CLOSED
  }

  private final Kind kind;

  PoolFailure(Kind kind, String message) {
    super(message, null, false, false); // expected under load: no stack trace to fill
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
