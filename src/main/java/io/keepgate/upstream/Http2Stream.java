package io.keepgate.upstream;

import io.keepgate.http2.ExtensionHeaders;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.Locale;

/**
 * One stream of an {@link Http2Connection}, leased to an exchange like an HTTP/1.1 connection: its
 * child channel carries HTTP/1 messages through Netty's stream-to-HTTP-object codec, so the exchange
 * relays it unchanged, with the stream's flow-control window as backpressure. Closing it resets the
 * stream, never the connection. A stream the backend did not process (above a GOAWAY's last stream
 * id, or refused) says so, and may go again on another connection whatever its method.
 *
 * <p>Threading: confined to the connection's event loop.
 */
final class Http2Stream extends UpstreamConnection {
  private final Http2Connection connection;
  /** Whether its connection carried streams before this one, or was opened ahead of them (warm hand-off). */
  private final boolean reused;
  private boolean responseStarted;
  private boolean unprocessed;

  Http2Stream(Http2StreamChannel channel, Http2Connection connection, long nowNanos) {
    super(channel, null, connection.pool, nowNanos);
    this.connection = connection;
    this.reused = connection.requestsServed > 0 || connection.openedAhead;
    this.state = State.LEASED;
  }

  @Override
  PooledConnection carrier() {
    return connection;
  }

  @Override
  public void expectResponse(boolean toHead) {
    responseStarted = false;
  }

  /** A frame of the response arrived (HTTP/2 hands over whole frames: a HEADERS frame is the first). */
  @Override
  public boolean responseBytesArrived() {
    return responseStarted;
  }

  @Override
  public boolean unprocessed() {
    return unprocessed;
  }

  @Override
  public boolean reused() {
    return reused;
  }

  /** Resets the stream (RST_STREAM CANCEL); the connection and its other streams carry on. */
  @Override
  public void close(CloseReason reason) {
    channel.close();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    responseStarted = true;
    // a HEADERS frame that ended the stream comes whole (a FullHttpResponse): a gRPC trailers-only
    // answer must reach an HTTP/2 client as one HEADERS frame again, its status in it
    if (msg instanceof HttpResponse head) {
      ExtensionHeaders.strip(head.headers());
    }
    super.channelRead(ctx, msg);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    if (event instanceof Http2GoAwayFrame) {
      unprocessed = true; // above the GOAWAY's last stream id: the backend never acted on it
      failure = new IllegalStateException("upstream sent GOAWAY before processing the request");
    } else if (event instanceof Http2ResetFrame reset) {
      Http2Error error = Http2Error.valueOf(reset.errorCode());
      unprocessed = error == Http2Error.REFUSED_STREAM; // RFC 9113 section 8.7: safe to retry
      failure = new IllegalStateException("upstream reset the stream ("
          + (error == null ? reset.errorCode() : error.name().toLowerCase(Locale.ROOT)) + ")");
    }
    ReferenceCountUtil.release(event);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    reading = false;
    Listener current = listener;
    listener = null;
    if (state == State.LEASED) {
      pool.onStreamClosed(this); // reset, or its connection went, under the exchange
    }
    state = State.CLOSED;
    if (current != null) {
      current.onUpstreamClosed();
    }
  }
}
