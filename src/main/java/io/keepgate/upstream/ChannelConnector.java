package io.keepgate.upstream;

import io.keepgate.config.Endpoint;
import io.keepgate.config.UpstreamConfig;
import io.keepgate.http1.RequestEncoder;
import io.keepgate.http1.ResponseDecoder;
import io.keepgate.internal.Loop;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.resolver.AddressResolverGroup;
import java.net.InetSocketAddress;
import java.util.function.Consumer;

/**
 * Opens upstream channels on one event loop: Netty's HTTP/1.1 client codec (keepgate's encoder
 * and decoder) and an {@link UpstreamConnection} as the last handler, the connect timeout, and
 * TCP keepalive with the upstream's timers set on the socket. Host names resolve
 * asynchronously through Vert.x's resolver, never with a blocking lookup on the loop.
 *
 * <p>Threading: {@link #connect} is called on the loop, and reports back on it.
 */
final class ChannelConnector implements Connector {
  private final Bootstrap bootstrap;
  private final InetSocketAddress address;
  private final Loop loop;

  ChannelConnector(Loop loop, UpstreamConfig config, Endpoint endpoint, ChannelFactory<? extends Channel> channels,
      AddressResolverGroup<InetSocketAddress> resolver, boolean epoll) {
    this.loop = loop;
    this.address = InetSocketAddress.createUnresolved(endpoint.host(), endpoint.port());
    this.bootstrap = new Bootstrap()
        .group(loop.eventLoop())
        .channelFactory(channels)
        .resolver(resolver) // TCP_NODELAY is on by Netty's default
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.pool().connectTimeout().toMillis());
    TcpKeepAlive.configure(bootstrap, config.tcpKeepAlive(), epoll);
  }

  @Override
  public void connect(LoopPool pool) {
    open(pool, connection -> pool.onConnected(connection), pool::onConnectFailed);
  }

  /** A connection outside any pool and its limits (a tunnel): it is never recycled. */
  @Override
  public void connectDedicated(Consumer<UpstreamConnection> onConnected, Consumer<String> onFailed) {
    open(null, onConnected, onFailed);
  }

  private void open(LoopPool pool, Consumer<UpstreamConnection> onConnected, Consumer<String> onFailed) {
    Bootstrap attempt = bootstrap.clone().handler(new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel channel) {
        ResponseDecoder decoder = new ResponseDecoder();
        channel.pipeline().addLast(new RequestEncoder(), decoder,
            new UpstreamConnection(channel, decoder, pool, loop.now()));
      }
    });
    attempt.connect(address).addListener((ChannelFuture future) -> {
      if (future.isSuccess()) {
        onConnected.accept(future.channel().pipeline().get(UpstreamConnection.class));
      } else {
        onFailed.accept(describe(future.cause()));
      }
    });
  }

  private static String describe(Throwable cause) {
    String message = cause.getMessage();
    return message != null ? message : cause.getClass().getSimpleName();
  }
}
