package io.keepgate.upstream;

import java.util.function.Consumer;

/**
 * Opens connections for a pool on the pool's event loop. The production connector opens Netty
 * channels; pool unit tests use one that completes each connect by hand.
 *
 * <p>Threading: called on the pool's loop; reports back there, through
 * {@link LoopPool#onConnected} or {@link LoopPool#onConnectFailed}.
 */
interface Connector {
  void connect(LoopPool pool);

  /** Opens a connection that belongs to no pool (a tunnel); reports back on the loop. */
  default void connectDedicated(Consumer<UpstreamConnection> onConnected, Consumer<String> onFailed) {
    onFailed.accept("dedicated connections are not supported here");
  }
}
