package io.keepgate.upstream;

import io.keepgate.config.Endpoint;
import io.keepgate.config.UpstreamConfig;
import io.keepgate.config.UpstreamProtocol;
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
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.resolver.AddressResolverGroup;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Opens upstream channels on one event loop: TLS first when the upstream has it, then for HTTP/1.1
 * keepgate's encoder and decoder with an {@link UpstreamConnection} as the last handler, for HTTP/2
 * Netty's frame codec and stream multiplexer with an {@link Http2Connection}; the connect timeout,
 * and TCP keepalive with the upstream's timers set on the socket. A connection is handed over only
 * once it can carry a request: after its TLS handshake (and ALPN's {@code h2}), and for HTTP/2 after
 * the backend's first SETTINGS; a failure before that is a failed connect (502 with the reason, a
 * strike against the endpoint). Host names resolve asynchronously through Vert.x's resolver, never
 * with a blocking lookup on the loop.
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
  private final UpstreamConfig config;

  ChannelConnector(Loop loop, UpstreamConfig config, Endpoint endpoint, ChannelFactory<? extends Channel> channels,
      AddressResolverGroup<InetSocketAddress> resolver, boolean epoll, UpstreamTls tls, EndpointStats stats) {
    this.loop = loop;
    this.tls = tls;
    this.stats = stats;
    this.config = config;
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
    open(pool, pool::onConnected, pool::onConnectFailed);
  }

  /** A connection outside any pool and its limits (a tunnel): it is never recycled. HTTP/1.1 only. */
  @Override
  public void connectDedicated(Consumer<UpstreamConnection> onConnected, Consumer<String> onFailed) {
    if (config.protocol().http2()) {
      onFailed.accept("an upgrade (WebSocket) needs an HTTP/1.1 upstream; " + config.name() + " speaks "
          + config.protocol().jsonName());
      return;
    }
    open(null, connection -> onConnected.accept((UpstreamConnection) connection), onFailed);
  }

  private void open(LoopPool pool, Consumer<PooledConnection> onConnected, Consumer<String> onFailed) {
    Bootstrap attempt = bootstrap.clone().handler(new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel channel) {
        if (tls != null) {
          // the HTTP handlers join once the handshake is done: until then the pool knows no connection
          channel.pipeline().addLast(tls.newHandler(channel.alloc(), address.getHostString(), address.getPort()),
              HandshakeFailures.INSTANCE);
        }
      }
    });
    attempt.connect(address).addListener((ChannelFuture future) -> {
      if (!future.isSuccess()) {
        onFailed.accept(describe(future.cause()));
      } else if (tls == null) {
        startHttp(future.channel(), pool, onConnected, onFailed);
      } else {
        awaitHandshake(future.channel(), pool, onConnected, onFailed);
      }
    });
  }

  /** Adds the HTTP handlers; reports the connection once it can carry a request. */
  private void startHttp(Channel channel, LoopPool pool, Consumer<PooledConnection> onConnected,
      Consumer<String> onFailed) {
    if (!config.protocol().http2()) {
      ResponseDecoder decoder = new ResponseDecoder();
      UpstreamConnection connection = new UpstreamConnection(channel, decoder, pool, loop.now());
      channel.pipeline().addLast(new RequestEncoder(), decoder, connection);
      onConnected.accept(connection);
      return;
    }
    Http2Connection connection = new Http2Connection(channel, pool, loop.now(), config.http2Ping());
    channel.pipeline().addLast(Http2Client.frameCodec(), Http2Client.multiplexer(), connection);
    connection.whenReady(() -> onConnected.accept(connection), onFailed);
    Http2Client.widenConnectionWindow(channel);
    long timeout = config.pool().connectTimeout().toMillis();
    channel.eventLoop().schedule(() -> connection.setupTimedOut(
        "no HTTP/2 SETTINGS from the backend within " + timeout + " ms (does it speak HTTP/2?)"),
        timeout, TimeUnit.MILLISECONDS);
  }

  private void awaitHandshake(Channel channel, LoopPool pool, Consumer<PooledConnection> onConnected,
      Consumer<String> onFailed) {
    long start = System.nanoTime();
    channel.pipeline().get(SslHandler.class).handshakeFuture().addListener(handshake -> {
      if (handshake.isSuccess() && channel.isActive()) {
        stats.tlsHandshakes.increment();
        stats.tlsHandshakeNanos.add(System.nanoTime() - start);
        channel.pipeline().remove(HandshakeFailures.INSTANCE);
        String chosen = channel.pipeline().get(SslHandler.class).applicationProtocol();
        if (config.protocol() == UpstreamProtocol.H2 && !ApplicationProtocolNames.HTTP_2.equals(chosen)) {
          channel.close();
          onFailed.accept("the backend did not choose h2 by ALPN (" + (chosen == null ? "no ALPN" : chosen) + ")");
          return;
        }
        startHttp(channel, pool, onConnected, onFailed);
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
