package io.keepgate.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;
import java.util.List;

/**
 * Vert.x's request decoder, plus a strict look at the raw bytes of every request head. Netty is
 * lenient where a proxy must not be (it drops Content-Length when Transfer-Encoding is present and
 * unfolds obs-fold), so the exact bytes Netty consumed for a head are collected and judged by
 * {@link RequestHeadValidator}; a refused head turns into a failed decoder result, which Vert.x
 * routes to the invalid-request handler (400, connection closed) instead of the proxy.
 *
 * <p>Threading: one instance per client connection, on its event loop (Netty's decoder contract).
 */
final class StrictRequestDecoder extends VertxHttpRequestDecoder {
  private final ByteBuf head;
  private boolean awaitingHead = true;
  /** The head being decoded did not fit {@link #head}: it is refused, never let through unjudged. */
  private boolean headOverflow;
  /** After a refused head nothing more is decoded: the connection is being closed. */
  private boolean refused;

  StrictRequestDecoder(HttpServerOptions options, ByteBufAllocator allocator) {
    super(options);
    this.head = allocator.heapBuffer(256, options.getMaxInitialLineLength() + options.getMaxHeaderSize() + 4);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
    if (refused) {
      buffer.skipBytes(buffer.readableBytes());
      return;
    }
    int from = buffer.readerIndex();
    int produced = out.size();
    super.decode(ctx, buffer, out);
    if (awaitingHead) {
      int consumed = buffer.readerIndex() - from;
      // maxWritableBytes, not writableBytes: the buffer grows from 256 bytes up to the head limit
      if (consumed > head.maxWritableBytes()) {
        headOverflow = true; // over the size limits: refused below if Netty has not refused it already
        head.clear();
      } else if (!headOverflow) {
        head.writeBytes(buffer, from, consumed);
      }
    }
    for (int i = produced; i < out.size(); i++) {
      Object message = out.get(i);
      if (message instanceof HttpRequest request && !judge(request)) {
        // end the refused message here: its body (maybe a smuggled request) is never decoded
        out.subList(i + 1, out.size()).forEach(ReferenceCountUtil::release);
        out.subList(i + 1, out.size()).clear();
        out.add(LastHttpContent.EMPTY_LAST_CONTENT);
        refused = true;
        buffer.skipBytes(buffer.readableBytes());
        return;
      }
      if (message instanceof LastHttpContent) {
        awaitingHead = true;
      }
    }
  }

  /** Marks the request failed if its head is refused; returns whether it may proceed. */
  private boolean judge(HttpRequest request) {
    awaitingHead = false;
    boolean acceptable = request.decoderResult().isSuccess();
    if (acceptable && headOverflow) {
      request.setDecoderResult(DecoderResult.failure(
          new TooLongHttpHeaderException("request head larger than " + head.maxCapacity() + " bytes")));
      acceptable = false;
    } else if (acceptable) {
      byte[] bytes = new byte[head.readableBytes()];
      head.getBytes(head.readerIndex(), bytes);
      String reason = RequestHeadValidator.rejectReason(bytes);
      if (reason != null) {
        request.setDecoderResult(DecoderResult.failure(new InvalidRequestHead(reason)));
        acceptable = false;
      }
    }
    head.clear();
    headOverflow = false;
    return acceptable;
  }

  @Override
  protected void handlerRemoved0(ChannelHandlerContext ctx) throws Exception {
    head.release();
    super.handlerRemoved0(ctx);
  }

  /** A head refused by keepgate's own rules; its message is the reason sent to the client. */
  static final class InvalidRequestHead extends IllegalArgumentException {
    InvalidRequestHead(String reason) {
      super(reason, null);
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
      return this; // expected input from hostile clients: no stack trace to fill
    }
  }
}
