package io.keepgate.upstream;

/**
 * Opens connections for a pool on the pool's event loop. The production connector opens Netty
 * channels; pool unit tests use one that completes each connect by hand.
 *
 * <p>Threading: called on the pool's loop; reports back there, through
 * {@link LoopPool#onConnected} or {@link LoopPool#onConnectFailed}.
 */
interface Connector {
  void connect(LoopPool pool);
}
