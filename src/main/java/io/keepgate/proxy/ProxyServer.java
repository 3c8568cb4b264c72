package io.keepgate.proxy;

import io.keepgate.config.ServerConfig;
import io.keepgate.http1.RequestDecoder;
import io.keepgate.http1.ResponseEncoder;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollChannelOption;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The proxy listener: plain Netty server channels on Vert.x's own event loops. With the native
 * transport every loop binds its own socket with {@code SO_REUSEPORT}, so the kernel spreads
 * connections over the loops and each is accepted and served on the same thread; otherwise one
 * socket accepts and hands connections to the loops in turn.
 *
 * <p>Threading: {@link #bind} and {@link #close} may be called from any thread; what they return
 * completes on an event loop.
 */
final class ProxyServer {
  private final ServerConfig config;
  private final int port;
  /** TLS for this listener, or null for cleartext. */
  private final TlsTermination tls;
  /** PROXY protocol headers, or null when off. */
  private final ProxyProtocol proxyProtocol;
  private final List<ProxyLoop> loops;
  private final EventLoopGroup group;
  private final ChannelFactory<? extends ServerChannel> channels;
  private final boolean reusePort;
  private final AcceptGuard acceptGuard;
  private final List<Channel> listeners = new ArrayList<>();
  /** HTTP/2 from clients, or null when off. */
  private final Http2Frontend http2;

  ProxyServer(ServerConfig config, int port, TlsTermination tls, ProxyProtocol proxyProtocol, List<ProxyLoop> loops,
      EventLoopGroup group, ChannelFactory<? extends ServerChannel> channels, boolean nativeTransport,
      AcceptGuard acceptGuard) {
    this.config = config;
    this.port = port;
    this.tls = tls;
    this.proxyProtocol = proxyProtocol;
    this.loops = loops;
    this.group = group;
    this.channels = channels;
    this.reusePort = nativeTransport;
    this.acceptGuard = acceptGuard;
    this.http2 = config.http2().enabled() ? new Http2Frontend(config.http2(), config.maxHeaderBytes(),
        loops.get(0).context.metrics()) : null;
  }

  /** Binds the listener(s); completes with the port bound (the configured one, or a free one for port 0). */
  CompletableFuture<Integer> bind() {
    CompletableFuture<Integer> bound = new CompletableFuture<>();
    if (!reusePort) {
      Map<Object, ProxyLoop> byEventLoop = new IdentityHashMap<>();
      loops.forEach(loop -> byEventLoop.put(loop.loop.eventLoop(), loop));
      ServerBootstrap bootstrap = bootstrap()
          .group(loops.get(0).loop.eventLoop(), group)
          .childHandler(initializer(channel -> byEventLoop.get(channel.eventLoop())));
      bindOne(bootstrap, port, bound, () -> bound.complete(port()));
      return bound;
    }
    bindFrom(0, port, bound);
    return bound;
  }

  /** Binds loop {@code index} and then the next ones, all on the port the first one got. */
  private void bindFrom(int index, int port, CompletableFuture<Integer> bound) {
    if (index == loops.size()) {
      bound.complete(port);
      return;
    }
    ProxyLoop loop = loops.get(index);
    ServerBootstrap bootstrap = bootstrap()
        .group(loop.loop.eventLoop(), loop.loop.eventLoop())
        .option(EpollChannelOption.SO_REUSEPORT, true)
        .childHandler(initializer(channel -> loop));
    bindOne(bootstrap, port, bound, () -> bindFrom(index + 1, port(), bound));
  }

  private void bindOne(ServerBootstrap bootstrap, int port, CompletableFuture<Integer> bound, Runnable next) {
    bootstrap.bind(new InetSocketAddress(config.host(), port)).addListener((ChannelFuture f) -> {
      if (f.isSuccess()) {
        synchronized (listeners) {
          listeners.add(f.channel());
        }
        next.run();
      } else {
        close();
        bound.completeExceptionally(f.cause());
      }
    });
  }

  private ServerBootstrap bootstrap() {
    int high = config.responseBufferBytes();
    ServerBootstrap bootstrap = new ServerBootstrap()
        .channelFactory(channels)
        .handler(acceptGuard)
        .option(ChannelOption.SO_REUSEADDR, true)
        .option(ChannelOption.SO_BACKLOG, 1024)
        // TCP_NODELAY is on by Netty's default; the write buffer's high-water mark bounds what a
        // client that does not read costs: past it the upstream is not read
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(high / 2, high));
    if (config.socketSendBufferBytes() > 0) {
      bootstrap.childOption(ChannelOption.SO_SNDBUF, config.socketSendBufferBytes());
    }
    return bootstrap;
  }

  /**
   * The pipeline of a client connection: the PROXY header detector (when on), TLS (on the TLS
   * listener) and its ALPN switch to HTTP/2, or the HTTP/2 preface detector (cleartext), then the
   * HTTP/1.1 decoder, encoder, and the connection's own handler.
   */
  private ChannelInitializer<Channel> initializer(Function<Channel, ProxyLoop> loopOf) {
    return new ChannelInitializer<>() {
      @Override
      protected void initChannel(Channel channel) {
        ClientConnection connection = new ClientConnection(loopOf.apply(channel));
        RequestDecoder decoder = new RequestDecoder(config.maxRequestLineBytes(), config.maxHeaderBytes(), connection);
        ResponseEncoder encoder = new ResponseEncoder();
        connection.init(channel, decoder, encoder, tls != null);
        if (proxyProtocol != null) {
          channel.pipeline().addLast(proxyProtocol.newDetector(connection));
        }
        if (tls != null) {
          channel.pipeline().addLast(tls.newHandlers());
          if (http2 != null) {
            channel.pipeline().addLast(http2.alpnSwitch(connection));
          }
        } else if (http2 != null && config.http2().cleartext()) {
          channel.pipeline().addLast(http2.priorKnowledgeDetector(connection));
        }
        channel.pipeline().addLast(decoder, encoder, connection);
      }
    };
  }

  /** The bound port. */
  int port() {
    synchronized (listeners) {
      return ((InetSocketAddress) listeners.get(0).localAddress()).getPort();
    }
  }

  /** Stops accepting: every listening socket closes. Connections already accepted go on. */
  CompletableFuture<Void> close() {
    List<Channel> open;
    synchronized (listeners) {
      open = List.copyOf(listeners);
      listeners.clear();
    }
    CompletableFuture<?>[] closed = open.stream().map(channel -> {
      CompletableFuture<Void> done = new CompletableFuture<>();
      channel.close().addListener(f -> done.complete(null));
      return done;
    }).toArray(CompletableFuture[]::new);
    return CompletableFuture.allOf(closed);
  }
}
