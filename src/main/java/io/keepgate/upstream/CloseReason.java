package io.keepgate.upstream;

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
  /** An HTTP/2 connection whose PING went unanswered for {@code http2Ping.timeoutMs}: the backend is gone or wedged. */
  PING_TIMEOUT("ping_timeout"),
  /** An HTTP/2 backend sent GOAWAY: the connection took no new stream and closed when its last one ended. */
  GOAWAY("goaway"),
  /** The backend closed it: EOF on the socket or {@code Connection: close} in a response. */
  UPSTREAM_CLOSED("upstream_closed"),
  /** Any other failure: reset, protocol error, response timeout. */
  ERROR("error"),
  /**
   * The client's side broke off mid-exchange (it closed, stalled or sent a malformed body): the
   * exchange cannot complete on this connection. Not the backend's fault, and never counted against it.
   */
  CLIENT_ABORTED("client_aborted"),
  /** Another event loop needed the permit: an idle connection closed so that one opens where requests wait. */
  REBALANCED("rebalanced"),
  /** Its endpoint was ejected as unhealthy: its idle connections are closed at once. */
  EJECTED("ejected"),
  /** Retired because this node holds more than its share of {@code maxConnectionsTotal} (a member joined). */
  BUDGET("budget"),
  /** The pool was closed: drain on shutdown or a reload that changed the upstream. */
  SHUTDOWN("shutdown"),
  /** Its endpoint left the discovered set: idle connections close at once, busy ones after their exchange. */
  DRAINED("drained");

  private final String label;

  CloseReason(String label) {
    this.label = label;
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
