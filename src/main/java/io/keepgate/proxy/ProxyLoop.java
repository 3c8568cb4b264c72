package io.keepgate.proxy;

import io.keepgate.internal.Loop;
import io.keepgate.internal.TimeoutList;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * The proxy's state on one event loop: the client connections accepted there, their timeout
 * lists, and whether the gateway is draining.
 *
 * <p>Threading: confined to its loop; {@link #drain} and {@link #closeAll} may be called from any
 * thread and hop to it.
 */
final class ProxyLoop {
  /** How long a connection refused with an error keeps reading (and discarding) so its client sees the answer. */
  static final Duration LINGER = Duration.ofSeconds(2);
  /**
   * How long a drain leaves a connection that went idle just before it: its client, unaware of the
   * drain, may be sending its next request this moment, which is answered (with
   * {@code Connection: close}) rather than lost. Connections idle for longer close at once.
   */
  static final Duration DRAIN_GRACE = Duration.ofSeconds(1);

  final Loop loop;
  final ProxyContext context;
  final TimeoutList idleTimeouts;
  final TimeoutList headTimeouts;
  final TimeoutList lingerTimeouts;
  final TimeoutList sendTimeouts;
  final TimeoutList drainGraceTimeouts;
  private ClientConnection first;
  private int connections;
  private boolean draining;
  private CompletableFuture<Void> drained;

  ProxyLoop(Loop loop, ProxyContext context) {
    this.loop = loop;
    this.context = context;
    this.idleTimeouts = loop.timers().list(context.server().idleTimeout());
    this.headTimeouts = loop.timers().list(context.server().headerReadTimeout());
    this.lingerTimeouts = loop.timers().list(LINGER);
    this.sendTimeouts = loop.timers().list(context.server().sendTimeout());
    this.drainGraceTimeouts = loop.timers().list(DRAIN_GRACE);
  }

  int index() {
    return loop.index();
  }

  boolean draining() {
    return draining;
  }

  void add(ClientConnection connection) {
    connection.next = first;
    if (first != null) {
      first.prev = connection;
    }
    first = connection;
    connections++;
  }

  void remove(ClientConnection connection) {
    if (connection.prev != null) {
      connection.prev.next = connection.next;
    } else if (first == connection) {
      first = connection.next;
    } else {
      return; // not registered
    }
    if (connection.next != null) {
      connection.next.prev = connection.prev;
    }
    connection.prev = null;
    connection.next = null;
    connections--;
    if (draining && connections == 0 && drained != null) {
      drained.complete(null);
    }
  }

  /**
   * Stops keeping client connections alive: idle ones close now (or after {@link #DRAIN_GRACE}
   * when they went idle within it), busy ones after their response (which carries
   * {@code Connection: close}). Completes when every connection of the loop is gone.
   */
  CompletableFuture<Void> drain() {
    CompletableFuture<Void> done = new CompletableFuture<>();
    loop.run(() -> {
      draining = true;
      drained = done;
      for (ClientConnection c = first; c != null; ) {
        ClientConnection next = c.next;
        c.onDrain();
        c = next;
      }
      if (connections == 0) {
        done.complete(null);
      }
    });
    return done;
  }

  /** Closes every client connection left, at the end of a drain. */
  void closeAll() {
    loop.run(() -> {
      for (ClientConnection c = first; c != null; c = c.next) {
        c.channel().close();
      }
    });
  }
}
