package io.keepgate.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;

/**
 * The Netty handlers of an HTTP/2 connection to a backend: the frame codec with keepgate's client
 * settings, and the stream multiplexer that gives each stream a child channel.
 *
 * <p>Threading: stateless; the handlers belong to one channel each.
 */
final class Http2Client {
  /**
   * The connection's receive window: the bytes all its streams together may have in flight towards
   * keepgate. A stream's own window stays at the default 64 KiB, so a stream whose client does not
   * read holds back that much at most, and the others keep flowing.
   */
  static final int CONNECTION_WINDOW = 1 << 20;

  private Http2Client() {}

  static Http2FrameCodec frameCodec() {
    return Http2FrameCodecBuilder.forClient()
        .initialSettings(Http2Settings.defaultSettings().pushEnabled(false))
        .validateHeaders(true)
        // a stream leased as the one before it ends may reach the codec before that one is closed there:
        // it waits in the codec for the slot instead of failing
        .encoderEnforceMaxConcurrentStreams(true)
        .build();
  }

  static Http2MultiplexHandler multiplexer() {
    return new Http2MultiplexHandler(RefusePushedStreams.INSTANCE);
  }

  /** Opens the connection's window beyond the 64 KiB every HTTP/2 connection starts with. */
  static void widenConnectionWindow(Channel channel) {
    channel.writeAndFlush(new DefaultHttp2WindowUpdateFrame(CONNECTION_WINDOW - Http2CodecUtil.DEFAULT_WINDOW_SIZE),
        channel.voidPromise());
  }

  /** Server push is off in keepgate's SETTINGS; a stream the backend opens anyway is closed (reset). */
  @io.netty.channel.ChannelHandler.Sharable
  private static final class RefusePushedStreams extends ChannelInboundHandlerAdapter {
    static final RefusePushedStreams INSTANCE = new RefusePushedStreams();

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      ctx.close();
    }
  }
}
