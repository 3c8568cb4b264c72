package io.keepgate.internal;

import io.netty.channel.EventLoop;

/**
 * One of the gateway's event loops (Vert.x's own), with its index among them and its timers.
 * Client connections, their exchanges and the upstream connections serving them all live on one
 * loop, so the request path never crosses threads.
 *
 * <p>Threading: immutable; {@link #timers} is confined to {@link #eventLoop}.
 */
public record Loop(int index, EventLoop eventLoop, LoopTimers timers) {

  public boolean inLoop() {
    return eventLoop.inEventLoop();
  }

  /** Runs {@code task} on this loop: now when called from it, else queued. */
  public void run(Runnable task) {
    if (eventLoop.inEventLoop()) {
      task.run();
    } else {
      eventLoop.execute(task);
    }
  }

  public long now() {
    return timers.ticker().nanoTime();
  }
}
