package io.keepgate.http1;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpStatusClass;

/**
 * Netty's response decoder for an upstream connection, told by the exchange what it asked for:
 * a response to HEAD has no body whatever its headers say, and interim (1xx) responses never
 * consume that knowledge (Netty's codec pairs each response, 1xx included, with one queued
 * method, which frames the final response to a HEAD after a 103 as if it had a body). It also
 * notes whether any byte arrived since the request went out: a request is retried only when
 * none did.
 *
 * <p>Threading: one per upstream connection, on its event loop.
 */
public final class ResponseDecoder extends HttpResponseDecoder {
  /** Response heads larger than this are a protocol error (502). */
  public static final int MAX_HEADER_BYTES = 65536;
  private static final int MAX_STATUS_LINE_BYTES = 8192;

  private boolean answeringHead;
  private boolean bytesArrived;

  public ResponseDecoder() {
    super(new HttpDecoderConfig()
        .setMaxInitialLineLength(MAX_STATUS_LINE_BYTES)
        .setMaxHeaderSize(MAX_HEADER_BYTES)
        .setMaxChunkSize(RequestDecoder.MAX_CHUNK_BYTES)
        .setInitialBufferSize(64));
  }

  /** A request goes out: its response is framed as an answer to HEAD or not; no byte has arrived. */
  public void expectResponse(boolean toHead) {
    answeringHead = toHead;
    bytesArrived = false;
  }

  /** Whether any byte of a response arrived since {@link #expectResponse}. */
  public boolean bytesArrived() {
    return bytesArrived;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (msg instanceof ByteBuf buf && buf.isReadable()) {
      bytesArrived = true;
    }
    super.channelRead(ctx, msg);
  }

  @Override
  protected boolean isContentAlwaysEmpty(HttpMessage msg) {
    if (answeringHead && msg instanceof HttpResponse response
        && response.status().codeClass() != HttpStatusClass.INFORMATIONAL) {
      return true;
    }
    return super.isContentAlwaysEmpty(msg);
  }
}
