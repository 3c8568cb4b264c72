package io.keepgate.proxy;

import io.keepgate.config.Http2Config;
import io.keepgate.http1.RequestDecoder;
import io.keepgate.http1.ResponseEncoder;
import io.keepgate.metrics.GatewayMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameLogger;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.logging.LogLevel;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP/2 from clients on Netty's frame codec. The connection is Netty's: SETTINGS, PING, HPACK,
 * flow control both ways, header validation, and the limits every HTTP/2 server needs (concurrent
 * streams, header list size, CONTINUATION frames, rapid reset, queued control frames, empty DATA
 * frames), each answered with GOAWAY and a close. Each stream is a child channel that carries
 * HTTP/1 messages (Netty's stream-to-HTTP-object codec) to a {@link ClientConnection} of its own,
 * so a stream takes the same {@link Exchange} as an HTTP/1.1 request: routing, pools, retries,
 * timeouts, metrics and access log. A stream's flow-control window is its backpressure: a stream
 * whose client does not read holds back its own upstream, nothing else.
 *
 * <p>Threading: the pipeline changes run on the connection's event loop, where its streams live too.
 */
final class Http2Frontend {
  /** The client connection preface (RFC 9113 section 3.4) that a prior-knowledge client sends first. */
  private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  /** Rapid reset (CVE-2023-44487): more streams reset by the client than this in {@link #RST_WINDOW_SECONDS} is a GOAWAY. */
  private static final int MAX_RESETS_PER_WINDOW = 200;
  private static final int RST_WINDOW_SECONDS = 30;
  /** PING and SETTINGS floods: control frames queued for a client that does not read them. */
  private static final int MAX_QUEUED_CONTROL_FRAMES = 10_000;
  /** DATA frames with no data in a row: a CPU flood (CVE-2019-9518). */
  private static final int MAX_EMPTY_DATA_FRAMES = 2;
  /** Small CONTINUATION frames for one header block: the CONTINUATION flood (CVE-2024-27316). */
  private static final int MAX_SMALL_CONTINUATION_FRAMES = 16;

  private final Http2Config config;
  private final int maxHeaderListBytes;
  private final GoAwayCounter goAways;

  Http2Frontend(Http2Config config, int maxHeaderListBytes, GatewayMetrics metrics) {
    this.config = config;
    this.maxHeaderListBytes = maxHeaderListBytes;
    this.goAways = new GoAwayCounter(metrics);
  }

  /** Turns the HTTP/1.1 pipeline of {@code session}'s channel into an HTTP/2 one. */
  void start(ChannelPipeline pipeline, ClientConnection session) {
    pipeline.remove(RequestDecoder.class);
    pipeline.remove(ResponseEncoder.class);
    String sessionName = pipeline.context(session).name();
    pipeline.addBefore(sessionName, "h2", Http2FrameCodecBuilder.forServer()
        .initialSettings(Http2Settings.defaultSettings()
            .maxConcurrentStreams(config.maxConcurrentStreams())
            .maxHeaderListSize(maxHeaderListBytes))
        .validateHeaders(true)
        .frameLogger(goAways)
        .decoderEnforceMaxRstFramesPerWindow(MAX_RESETS_PER_WINDOW, RST_WINDOW_SECONDS)
        .encoderEnforceMaxQueuedControlFrames(MAX_QUEUED_CONTROL_FRAMES)
        .decoderEnforceMaxConsecutiveEmptyDataFrames(MAX_EMPTY_DATA_FRAMES)
        .decoderEnforceMaxSmallContinuationFrames(MAX_SMALL_CONTINUATION_FRAMES)
        .build());
    pipeline.addBefore(sessionName, "h2-streams", new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
      @Override
      protected void initChannel(Http2StreamChannel stream) {
        ClientConnection connection = new ClientConnection(session.loop());
        connection.initStream(stream, session);
        stream.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true), connection);
      }
    }));
    session.startHttp2Session();
  }

  /** For the cleartext listener: switches to HTTP/2 when the client opens with the preface, else steps aside. */
  ByteToMessageDecoder priorKnowledgeDetector(ClientConnection session) {
    return new ByteToMessageDecoder() {
      private boolean headStarted;

      @Override
      protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        int seen = Math.min(in.readableBytes(), PREFACE.length);
        for (int i = 0; i < seen; i++) {
          if (in.getByte(in.readerIndex() + i) != PREFACE[i]) {
            ctx.pipeline().remove(this); // HTTP/1: what was read goes on to its decoder
            return;
          }
        }
        if (seen == PREFACE.length) {
          start(ctx.pipeline(), session); // the frame codec reads the preface itself
          ctx.pipeline().remove(this);
        } else if (seen > 0 && !headStarted) {
          headStarted = true; // once: a client dribbling the preface must not restart the clock
          session.onHeadStarted(); // a partial preface is a request head in the making: its read timeout runs
        }
      }
    };
  }

  /** For the TLS listener: HTTP/2 when ALPN chose {@code h2}, else the HTTP/1.1 pipeline stays. */
  ApplicationProtocolNegotiationHandler alpnSwitch(ClientConnection session) {
    return new ApplicationProtocolNegotiationHandler(ApplicationProtocolNames.HTTP_1_1) {
      @Override
      protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
        if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
          start(ctx.pipeline(), session);
        }
      }

      @Override
      protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close(); // counted by the handshake counter before this handler
      }
    };
  }

  /**
   * Counts the GOAWAY frames sent to clients by error code, and logs the ones that end a client's
   * connection for breaking a limit or the protocol. Netty's frame logger is the one hook on the
   * frames its codec writes itself; this one logs nothing else (it reports itself disabled, so the
   * other frames cost a check).
   */
  private static final class GoAwayCounter extends Http2FrameLogger {
    private static final Logger log = LoggerFactory.getLogger(Http2Frontend.class);
    private final GatewayMetrics metrics;

    GoAwayCounter(GatewayMetrics metrics) {
      super(LogLevel.TRACE, Http2Frontend.class);
      this.metrics = metrics;
    }

    @Override
    public boolean isEnabled() {
      return false;
    }

    @Override
    public void logGoAway(Direction direction, ChannelHandlerContext ctx, int lastStreamId, long errorCode,
        ByteBuf debugData) {
      if (direction != Direction.OUTBOUND) {
        return;
      }
      Http2Error error = Http2Error.valueOf(errorCode);
      String name = error == null ? "unknown" : error.name().toLowerCase(Locale.ROOT);
      metrics.http2GoAway(name);
      if (error != Http2Error.NO_ERROR) {
        log.info("GOAWAY {} to HTTP/2 client {}: {}", name, ctx.channel().remoteAddress(),
            debugData.toString(StandardCharsets.UTF_8));
      }
    }
  }
}
