package io.keepgate.upstream;

import io.keepgate.config.TcpKeepAliveConfig;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.nio.NioChannelOption;
import io.vertx.core.http.HttpClientConnection;
import io.vertx.core.net.impl.ConnectionBase;
import java.lang.reflect.Field;
import jdk.net.ExtendedSocketOptions;

/**
 * Applies TCP keepalive (kernel liveness probes, not HTTP keep-alive) to upstream sockets, and reads
 * the values back from the kernel.
 *
 * <p>Vert.x 5.0 sets SO_KEEPALIVE and TCP_USER_TIMEOUT from client options but has no setters for
 * TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT, and the Linux defaults (7200 s / 75 s / 9) never find
 * a dead backend in time. So keepgate sets all of them on the Netty channel: Netty's epoll options
 * on the native transport, the JDK's extended socket options on NIO. TCP_USER_TIMEOUT exists only
 * on the native transport; with it, data left unacknowledged fails the socket in bounded time.
 *
 * <p>Threading: stateless; call on the connection's event loop right after connect.
 */
public final class TcpKeepAlive {

  /** The values the kernel holds for one socket; -1 where the transport cannot tell. */
  public record SocketValues(boolean enabled, int idleSeconds, int intervalSeconds, int probes, int userTimeoutMs) {}

  private static final Field UNPOOLED_ACTUAL = unpooledConnectionField();

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

  /** Sets the configured keepalive timers on the connection's socket. */
  static void apply(HttpClientConnection connection, TcpKeepAliveConfig config) {
    Channel channel = channelOf(connection);
    channel.config().setOption(ChannelOption.SO_KEEPALIVE, config.enabled());
    if (!config.enabled()) {
      return;
    }
    if (channel instanceof EpollSocketChannel) {
      channel.config().setOption(EpollChannelOption.TCP_KEEPIDLE, config.idleSeconds());
      channel.config().setOption(EpollChannelOption.TCP_KEEPINTVL, config.intervalSeconds());
      channel.config().setOption(EpollChannelOption.TCP_KEEPCNT, config.probes());
      channel.config().setOption(EpollChannelOption.TCP_USER_TIMEOUT,
          (int) Math.min(Integer.MAX_VALUE, config.effectiveUserTimeout().toMillis()));
    } else {
      channel.config().setOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPIDLE), config.idleSeconds());
      channel.config().setOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPINTERVAL), config.intervalSeconds());
      channel.config().setOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPCOUNT), config.probes());
    }
  }

  /** Reads the keepalive settings back from the kernel (getsockopt) for this connection's socket. */
  public static SocketValues read(HttpClientConnection connection) {
    Channel channel = channelOf(connection);
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

  /**
   * The Netty channel under a connection from {@code HttpClient.connect}. Vert.x wraps it in an
   * {@code UnpooledHttpClientConnection} that does not expose the channel, hence the one reflective read.
   */
  private static Channel channelOf(HttpClientConnection connection) {
    Object actual = connection;
    if (UNPOOLED_ACTUAL != null && UNPOOLED_ACTUAL.getDeclaringClass().isInstance(connection)) {
      try {
        actual = UNPOOLED_ACTUAL.get(connection);
      } catch (IllegalAccessException e) {
        throw new IllegalStateException("cannot reach the upstream socket", e);
      }
    }
    if (actual instanceof ConnectionBase base) {
      return base.channel();
    }
    throw new IllegalStateException("cannot reach the upstream socket of " + connection.getClass().getName());
  }

  private static Field unpooledConnectionField() {
    try {
      Field field = Class.forName("io.vertx.core.http.impl.UnpooledHttpClientConnection").getDeclaredField("actual");
      field.setAccessible(true);
      return field;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null; // channelOf fails loudly on first use; startup checks catch it in tests
    }
  }
}
