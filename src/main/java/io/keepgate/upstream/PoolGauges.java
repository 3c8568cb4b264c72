package io.keepgate.upstream;

/**
 * The connection gauges of one pool, read by metrics and the admin API from any thread.
 *
 * <p>Threading: implementations are written by one event loop and readable from any thread.
 */
interface PoolGauges {
  /** Connections leased to a request now. */
  int active();

  /** Connections idle in the pool. */
  int idle();

  /** Requests waiting for a connection. */
  int pending();
}
