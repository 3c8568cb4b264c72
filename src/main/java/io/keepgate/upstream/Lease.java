package io.keepgate.upstream;

import io.keepgate.config.Endpoint;
import io.vertx.core.http.HttpClientConnection;

/**
 * The right to send one request on a pooled connection. Exactly one of {@link #recycle} or
 * {@link #discard} must be called when the exchange ends; later calls are ignored.
 *
 * <p>Threading: may be used from any event loop; the pool hops to its home loop.
 */
public final class Lease {
  private final EndpointPool pool;
  private final PooledConnection connection;
  private final boolean reused;
  private boolean ended;

  Lease(EndpointPool pool, PooledConnection connection, boolean reused) {
    this.pool = pool;
    this.connection = connection;
    this.reused = reused;
  }

  /** The connection to send the request on. */
  public HttpClientConnection connection() {
    return connection.http;
  }

  /** Whether this connection served earlier requests (a pool hit) rather than being opened for this one. */
  public boolean reused() {
    return reused;
  }

  public Endpoint endpoint() {
    return pool.endpoint();
  }

  /**
   * The exchange completed cleanly and the connection may serve another request.
   *
   * @param keepAliveTimeoutSeconds the backend's {@code Keep-Alive: timeout=N}, or -1 if it sent none
   */
  public void recycle(int keepAliveTimeoutSeconds) {
    if (!ended) {
      ended = true;
      pool.release(connection, null, keepAliveTimeoutSeconds);
    }
  }

  /** The lease was never used (the client left while it waited): back to the pool as it was. */
  public void recycleUnused() {
    if (!ended) {
      ended = true;
      pool.returnUnused(connection);
    }
  }

  /** The connection must not be reused; it is closed and counted with this reason. */
  public void discard(CloseReason reason) {
    if (!ended) {
      ended = true;
      pool.release(connection, reason, -1);
    }
  }
}
