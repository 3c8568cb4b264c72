package io.keepgate.upstream;

import io.vertx.core.http.HttpClosedException;

/** Why an upstream connection left the pool: the {@code reason} label of the closed-connections counter. */
public enum CloseReason {
  /** keepgate closed it after {@code pool.idleTimeoutMs}, or before the backend's {@code Keep-Alive: timeout}. */
  IDLE_TIMEOUT("idle_timeout"),
  /** Retired after {@code pool.maxLifetimeMs} (with jitter). */
  MAX_LIFETIME("max_lifetime"),
  /** Retired after {@code pool.maxRequestsPerConnection} requests. */
  MAX_REQUESTS("max_requests"),
  /** The kernel declared the peer dead: TCP keepalive probes or TCP_USER_TIMEOUT expired (ETIMEDOUT). */
  KEEPALIVE_DEAD("keepalive_dead"),
  /** The backend closed it: EOF on the socket or {@code Connection: close} in a response. */
  UPSTREAM_CLOSED("upstream_closed"),
  /** Any other failure: reset, protocol error, response timeout. */
  ERROR("error"),
  /** The client went away mid-exchange: the response on this connection will never be read. */
  CLIENT_CLOSED("client_closed"),
  /** Another event loop needed the permit: an idle connection closed so that one opens where requests wait. */
  REBALANCED("rebalanced"),
  /** Its endpoint was ejected as unhealthy: its idle connections are closed at once. */
  EJECTED("ejected"),
  /** Retired because this node holds more than its share of {@code maxConnectionsTotal} (a member joined). */
  BUDGET("budget"),
  /** The pool was closed: drain on shutdown or a reload that changed the upstream. */
  SHUTDOWN("shutdown");

  private final String label;

  CloseReason(String label) {
    this.label = label;
  }

  /** The reason for a connection that failed with {@code error}: a dead peer, or another error. */
  public static CloseReason forFailure(Throwable error) {
    if (error instanceof HttpClosedException) {
      return UPSTREAM_CLOSED; // EOF from the backend mid-exchange, e.g. the keep-alive race
    }
    String message = error.getMessage();
    // ETIMEDOUT on an established socket: keepalive probes or TCP_USER_TIMEOUT gave up on the peer
    return message != null && message.contains("Connection timed out") ? KEEPALIVE_DEAD : ERROR;
  }

  /** The reason for a connection whose socket failed with {@code error}: a dead peer, or another error. */
  static CloseReason ofSocketFailure(Throwable error) {
    String message = error.getMessage();
    // ETIMEDOUT on an established socket: keepalive probes or TCP_USER_TIMEOUT gave up on the peer
    return message != null && message.contains("Connection timed out") ? KEEPALIVE_DEAD : ERROR;
  }

  /** The metric label value. */
  public String label() {
    return label;
  }
}
