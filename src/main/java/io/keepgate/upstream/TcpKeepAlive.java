package io.keepgate.upstream;

import io.keepgate.config.TcpKeepAliveConfig;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.nio.NioChannelOption;
import jdk.net.ExtendedSocketOptions;

/**
 * Applies TCP keepalive (kernel liveness probes, not HTTP keep-alive) to upstream sockets, and reads
 * the values back from the kernel.
 *
 * <p>The Linux defaults (7200 s / 75 s / 9) never find a dead backend in time, so keepgate sets
 * TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT per upstream on every channel it opens: Netty's epoll
 * options on the native transport, the JDK's extended socket options on NIO. TCP_USER_TIMEOUT
 * exists only on the native transport; with it, data left unacknowledged fails the socket in
 * bounded time.
 *
 * <p>Threading: stateless.
 */
public final class TcpKeepAlive {

  /** The values the kernel holds for one socket; -1 where the transport cannot tell. */
  public record SocketValues(boolean enabled, int idleSeconds, int intervalSeconds, int probes, int userTimeoutMs) {}

  private TcpKeepAlive() {}

  /** Sets SO_KEEPALIVE and the configured timers on every channel {@code bootstrap} opens. */
  static void configure(Bootstrap bootstrap, TcpKeepAliveConfig config, boolean epoll) {
    bootstrap.option(ChannelOption.SO_KEEPALIVE, config.enabled());
    if (!config.enabled()) {
      return;
    }
    if (epoll) {
      bootstrap.option(EpollChannelOption.TCP_KEEPIDLE, config.idleSeconds());
      bootstrap.option(EpollChannelOption.TCP_KEEPINTVL, config.intervalSeconds());
      bootstrap.option(EpollChannelOption.TCP_KEEPCNT, config.probes());
      bootstrap.option(EpollChannelOption.TCP_USER_TIMEOUT,
          (int) Math.min(Integer.MAX_VALUE, config.effectiveUserTimeout().toMillis()));
    } else {
      bootstrap.option(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPIDLE), config.idleSeconds());
      bootstrap.option(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPINTERVAL), config.intervalSeconds());
      bootstrap.option(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPCOUNT), config.probes());
    }
  }

  /** Reads the keepalive settings back from the kernel (getsockopt) for this socket. */
  public static SocketValues read(Channel channel) {
    boolean enabled = channel.config().getOption(ChannelOption.SO_KEEPALIVE);
    if (channel instanceof EpollSocketChannel) {
      return new SocketValues(enabled,
          channel.config().getOption(EpollChannelOption.TCP_KEEPIDLE),
          channel.config().getOption(EpollChannelOption.TCP_KEEPINTVL),
          channel.config().getOption(EpollChannelOption.TCP_KEEPCNT),
          channel.config().getOption(EpollChannelOption.TCP_USER_TIMEOUT));
    }
    return new SocketValues(enabled,
        channel.config().getOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPIDLE)),
        channel.config().getOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPINTERVAL)),
        channel.config().getOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPCOUNT)),
        -1);
  }
}
