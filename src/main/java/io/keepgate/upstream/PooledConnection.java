package io.keepgate.upstream;

import io.vertx.core.http.HttpClientConnection;

/**
 * One persistent HTTP/1.1 connection to an endpoint, with the bookkeeping its pool needs.
 *
 * <p>Threading: confined to the owning pool's home event loop.
 */
final class PooledConnection {

  enum State { IDLE, LEASED, CLOSED }

  final HttpClientConnection http;
  final long openedAtNanos;
  /** When it retires by age (maxLifetime minus jitter); {@code Long.MAX_VALUE} for never. */
  final long retireAtNanos;

  State state = State.IDLE;
  long idleSinceNanos;
  /** Close before the backend's announced {@code Keep-Alive: timeout} passes; MAX_VALUE when none. */
  long keepAliveDeadlineNanos = Long.MAX_VALUE;
  /** The timer that closes it at {@link #keepAliveDeadlineNanos} while idle; -1 when none. */
  long keepAliveTimer = -1;
  int requestsServed;
  /** Set by whoever decides to close it, so the close handler counts the right reason. */
  CloseReason closeReason;
  /** Closed while leased, for no reason known yet: counted when the lease ends, with the exchange's reason. */
  boolean closeUncounted;
  Throwable lastError;

  PooledConnection(HttpClientConnection http, long openedAtNanos, long retireAtNanos) {
    this.http = http;
    this.openedAtNanos = openedAtNanos;
    this.retireAtNanos = retireAtNanos;
    this.idleSinceNanos = openedAtNanos;
  }

  /** The reason to close an idle connection now, or {@code null} if it may stay. */
  CloseReason expiry(long nowNanos, long idleTimeoutNanos) {
    if (nowNanos >= retireAtNanos) {
      return CloseReason.MAX_LIFETIME;
    }
    if (nowNanos - idleSinceNanos >= idleTimeoutNanos || nowNanos >= keepAliveDeadlineNanos) {
      return CloseReason.IDLE_TIMEOUT;
    }
    return null;
  }

  /** The close reason when the socket closed without keepgate asking for it. */
  CloseReason reasonForUnrequestedClose() {
    if (lastError == null) {
      return CloseReason.UPSTREAM_CLOSED;
    }
    return CloseReason.forFailure(lastError);
  }
}
