package io.keepgate.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

/**
 * A real HTTP/2 backend on Netty (h2c by prior knowledge, or h2 over TLS with ALPN) that counts what
 * a test checks at the backend: connections accepted, streams served, the most streams open at once
 * on one connection, PINGs received. Its SETTINGS_MAX_CONCURRENT_STREAMS and whether it answers
 * PINGs are set per test; each request (aggregated) goes to a handler that answers when it likes.
 */
public final class TestHttp2Backend implements AutoCloseable {
  /** Answers one request: write a response to the stream's channel now or later, and release the request. */
  public interface Handler extends BiConsumer<FullHttpRequest, Http2StreamChannel> {}

  private final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel server;
  private final AtomicInteger accepted = new AtomicInteger();
  private final AtomicInteger streams = new AtomicInteger();
  private final AtomicInteger pings = new AtomicInteger();
  private final AtomicInteger maxConcurrentStreams = new AtomicInteger();
  private final List<Channel> connections = new CopyOnWriteArrayList<>();
  private volatile Handler handler = (request, stream) -> {
    respond(stream, 200, "h2 " + request.uri());
    request.release();
  };

  private TestHttp2Backend(int streamLimit, boolean answerPings, SslContext tls) throws InterruptedException {
    server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel channel) {
            accepted.incrementAndGet();
            connections.add(channel);
            if (tls != null) {
              channel.pipeline().addLast(tls.newHandler(channel.alloc()));
            }
            AtomicInteger open = new AtomicInteger();
            channel.pipeline().addLast(Http2FrameCodecBuilder.forServer()
                    .initialSettings(Http2Settings.defaultSettings().maxConcurrentStreams(streamLimit))
                    .autoAckPingFrame(answerPings)
                    .build(),
                new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                  @Override
                  protected void initChannel(Http2StreamChannel stream) {
                    streams.incrementAndGet();
                    maxConcurrentStreams.accumulateAndGet(open.incrementAndGet(), Math::max);
                    stream.closeFuture().addListener(f -> open.decrementAndGet());
                    stream.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true),
                        new HttpObjectAggregator(1 << 20),
                        new SimpleChannelInboundHandler<FullHttpRequest>() {
                          @Override
                          protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
                            handler.accept(request.retain(), stream);
                          }
                        });
                  }
                }),
                new ChannelInboundHandlerAdapter() {
                  @Override
                  public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    if (msg instanceof Http2PingFrame ping && !ping.ack()) {
                      pings.incrementAndGet();
                    }
                    ReferenceCountUtil.release(msg);
                  }
                });
          }
        })
        .bind("127.0.0.1", 0).sync().channel();
  }

  /** h2c by prior knowledge, announcing {@code streamLimit} concurrent streams; PINGs answered or not. */
  public static TestHttp2Backend h2c(int streamLimit, boolean answerPings) throws InterruptedException {
    return new TestHttp2Backend(streamLimit, answerPings, null);
  }

  /** h2 over TLS with this certificate, ALPN offering {@code protocols} (h2 and/or http/1.1). */
  public static TestHttp2Backend tls(Path certFile, Path keyFile, String... protocols) throws Exception {
    SslContext tls = SslContextBuilder.forServer(certFile.toFile(), keyFile.toFile())
        .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, protocols))
        .build();
    return new TestHttp2Backend(100, true, tls);
  }

  /** Offers only h2 by ALPN. */
  public static TestHttp2Backend tls(Path certFile, Path keyFile) throws Exception {
    return tls(certFile, keyFile, ApplicationProtocolNames.HTTP_2);
  }

  public TestHttp2Backend handler(Handler handler) {
    this.handler = handler;
    return this;
  }

  /** Writes a whole response with this status and body (the request's to release is the caller's). */
  public static void respond(Http2StreamChannel stream, int status, String body) {
    ByteBuf content = Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
        content);
    HttpUtil.setContentLength(response, content.readableBytes());
    stream.writeAndFlush(response);
  }

  public int port() {
    return ((java.net.InetSocketAddress) server.localAddress()).getPort();
  }

  public String endpoint() {
    return "127.0.0.1:" + port();
  }

  public int accepted() {
    return accepted.get();
  }

  public int streams() {
    return streams.get();
  }

  public int pings() {
    return pings.get();
  }

  /** The most streams one connection had open at once. */
  public int maxConcurrentStreams() {
    return maxConcurrentStreams.get();
  }

  /** Connections open now. */
  public int open() {
    return (int) connections.stream().filter(Channel::isActive).count();
  }

  public List<Channel> connections() {
    return List.copyOf(connections);
  }

  @Override
  public void close() throws InterruptedException {
    server.close().sync();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }
}
