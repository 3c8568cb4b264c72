package io.keepgate.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The sockets this process holds open to upstreams (pooled, in flight, tunnels), counted from
 * the moment their channel exists until it closes, so that admitting a client connection can
 * count the descriptors upstream connections take: a busy client uses two.
 *
 * <p>Threading: lock-free, any thread.
 */
public final class UpstreamSockets {
  private final AtomicInteger open = new AtomicInteger();

  /** {@code channels}, with every channel it makes counted until the channel closes. */
  public <C extends Channel> ChannelFactory<C> counting(ChannelFactory<C> channels) {
    return () -> {
      C channel = channels.newChannel(); // the socket, and its descriptor, exist from here
      open.incrementAndGet();
      channel.closeFuture().addListener(closed -> open.decrementAndGet());
      return channel;
    };
  }

  /** Upstream sockets open now. */
  public int open() {
    return open.get();
  }
}
