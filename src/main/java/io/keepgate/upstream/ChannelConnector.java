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
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.keepgate.tls.UpstreamTls;
import io.netty.handler.ssl.SslHandler;
import io.netty.resolver.AddressResolverGroup;
import java.net.InetSocketAddress;
import java.util.function.Consumer;

/**
 * Opens upstream channels on one event loop: TLS first when the upstream has it, Netty's HTTP/1.1
 * client codec (keepgate's encoder and decoder) and an {@link UpstreamConnection} as the last
 * handler, the connect timeout, and TCP keepalive with the upstream's timers set on the socket.
 * With TLS a connection is handed over only once its handshake is done; a failed handshake is a
 * failed connect (502 with the reason, a strike against the endpoint). Host names resolve
 * asynchronously through Vert.x's resolver, never with a blocking lookup on the loop.
 *
 * <p>Threading: {@link #connect} is called on the loop, and reports back on it.
 */
final class ChannelConnector implements Connector {
  private final Bootstrap bootstrap;
  private final InetSocketAddress address;
  private final Loop loop;
  /** TLS to the endpoint, or null for cleartext. */
  private final UpstreamTls tls;
  private final EndpointStats stats;

  ChannelConnector(Loop loop, UpstreamConfig config, Endpoint endpoint, ChannelFactory<? extends Channel> channels,
      AddressResolverGroup<InetSocketAddress> resolver, boolean epoll, UpstreamTls tls, EndpointStats stats) {
    this.loop = loop;
    this.tls = tls;
    this.stats = stats;
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
        if (tls != null) {
          // the HTTP handlers join once the handshake is done: until then the pool knows no connection
          channel.pipeline().addLast(tls.newHandler(channel.alloc(), address.getHostString(), address.getPort()),
              HandshakeFailures.INSTANCE);
        } else {
          addHttpHandlers(channel, pool);
        }
      }
    });
    attempt.connect(address).addListener((ChannelFuture future) -> {
      if (!future.isSuccess()) {
        onFailed.accept(describe(future.cause()));
      } else if (tls == null) {
        onConnected.accept(future.channel().pipeline().get(UpstreamConnection.class));
      } else {
        awaitHandshake(future.channel(), pool, onConnected, onFailed);
      }
    });
  }

  private UpstreamConnection addHttpHandlers(Channel channel, LoopPool pool) {
    ResponseDecoder decoder = new ResponseDecoder();
    UpstreamConnection connection = new UpstreamConnection(channel, decoder, pool, loop.now());
    channel.pipeline().addLast(new RequestEncoder(), decoder, connection);
    return connection;
  }

  private void awaitHandshake(Channel channel, LoopPool pool, Consumer<UpstreamConnection> onConnected,
      Consumer<String> onFailed) {
    long start = System.nanoTime();
    channel.pipeline().get(SslHandler.class).handshakeFuture().addListener(handshake -> {
      if (handshake.isSuccess() && channel.isActive()) {
        stats.tlsHandshakes.increment();
        stats.tlsHandshakeNanos.add(System.nanoTime() - start);
        channel.pipeline().remove(HandshakeFailures.INSTANCE);
        onConnected.accept(addHttpHandlers(channel, pool));
      } else {
        stats.tlsHandshakeFailures.increment();
        channel.close();
        onFailed.accept("TLS handshake failed: " + describe(rootCause(handshake.cause())));
      }
    });
  }

  /** The innermost cause: where the engine says why ("PKIX path building failed", a name mismatch). */
  private static Throwable rootCause(Throwable cause) {
    Throwable root = cause == null ? new IllegalStateException("channel closed") : cause;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root;
  }

  /** Takes a failed handshake's exception, which the handshake future reports: it is not logged as unhandled. */
  @ChannelHandler.Sharable
  private static final class HandshakeFailures extends ChannelInboundHandlerAdapter {
    static final HandshakeFailures INSTANCE = new HandshakeFailures();

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  private static String describe(Throwable cause) {
    String message = cause.getMessage();
    return message != null ? message : cause.getClass().getSimpleName();
  }
}
