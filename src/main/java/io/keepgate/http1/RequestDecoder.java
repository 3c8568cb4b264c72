package io.keepgate.http1;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.util.List;

/**
 * Netty's request decoder, made strict enough for a proxy: every byte of a head (and of a chunked
 * body's framing) is judged in place, on the decoder's own buffer, before Netty parses it
 * ({@link HeadScanner}, {@link ChunkFraming}), and every decoded head passes
 * {@link RequestHeadRules}. So the head that is judged is the head that is decoded, whatever its
 * size and however its bytes are split across reads, and nothing is copied to judge it.
 *
 * <p>A refused request comes out as an {@link HttpRequest} (or, mid-body, a {@link LastHttpContent})
 * whose decoder result failed with a {@link RequestRefusal} or Netty's own exception; nothing
 * after it is decoded. After a WebSocket upgrade request, decoding stops for good: the connection
 * becomes a tunnel (removing the decoder hands its buffered bytes on) or closes after the answer.
 *
 * <p>Threading: one per client connection, on its event loop (Netty's decoder contract).
 */
public final class RequestDecoder extends HttpRequestDecoder {
  /** Body chunks up to this size come out of one read, so a 64 KiB read is one write upstream. */
  public static final int MAX_CHUNK_BYTES = 65536;

  /** Told when the first byte of a request head arrives: the head-read clock starts then. */
  public interface HeadListener {
    void onHeadStarted();
  }

  private enum Phase {
    /** Reading a head: {@link HeadScanner} runs ahead of Netty. */
    HEAD,
    /** A body framed by Content-Length: Netty's count is exact. */
    FIXED_BODY,
    /** A chunked body: {@link ChunkFraming} runs ahead of Netty. */
    CHUNKED_BODY,
    /** A WebSocket upgrade was asked for: what follows is not HTTP/1.1, nothing more is decoded. */
    UPGRADE_PENDING,
    /** A request was refused: everything after it is discarded. */
    REFUSED
  }

  private final HeadScanner scanner = new HeadScanner();
  private final int maxRequestLineBytes;
  /** Created with the connection's first chunked body: most connections never need it. */
  private ChunkFraming chunks;
  private final int maxHeadBytes;
  private final HeadListener listener;
  private Phase phase = Phase.HEAD;
  private boolean headStarted;
  /** Bytes past the reader index that the scanner has already judged. */
  private int judgedAhead;

  public RequestDecoder(int maxRequestLineBytes, int maxHeaderBytes, HeadListener listener) {
    super(new HttpDecoderConfig()
        .setMaxInitialLineLength(maxRequestLineBytes)
        .setMaxHeaderSize(maxHeaderBytes)
        .setMaxChunkSize(MAX_CHUNK_BYTES)
        .setStrictLineParsing(true)
        .setAllowDuplicateContentLengths(false)
        .setInitialBufferSize(32)
        // HeadScanner has already judged every name and value byte: Netty's own check would do it twice
        .setHeadersFactory(DefaultHttpHeadersFactory.headersFactory().withValidation(false)));
    this.maxRequestLineBytes = maxRequestLineBytes;
    this.maxHeadBytes = maxRequestLineBytes + maxHeaderBytes + 64;
    this.listener = listener;
    scanner.startHead();
  }

  /** Whether bytes wait in the decoder, read but not decoded yet (a pipelined request, say). */
  public boolean hasBufferedBytes() {
    return actualReadableBytes() > 0;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
    if (phase == Phase.REFUSED) {
      in.skipBytes(in.readableBytes());
      return;
    }
    if (phase == Phase.UPGRADE_PENDING) {
      return;
    }
    RequestRefusal refusal = judgeAhead(in);
    if (refusal != null) {
      refuse(in, out, refusal);
      return;
    }
    int from = in.readerIndex();
    int produced = out.size();
    super.decode(ctx, in, out);
    try {
      advance(in.readerIndex() - from, out, produced);
    } catch (IllegalStateException outOfStep) {
      // never expected; if the framing mirror ever disagrees with Netty, refuse rather than guess
      releaseFrom(out, produced);
      refuse(in, out, new RequestRefusal(400, "malformed message framing"));
    }
  }

  /** Judges bytes Netty is about to parse: the rest of a head, a trailer section, a chunk-size line. */
  private RequestRefusal judgeAhead(ByteBuf in) {
    boolean scanning = phase == Phase.HEAD || (phase == Phase.CHUNKED_BODY && chunks.inTrailers());
    if (!scanning) {
      return phase == Phase.CHUNKED_BODY ? chunks.check(in) : null;
    }
    if (scanner.done() || !in.isReadable()) {
      return null;
    }
    if (phase == Phase.HEAD && !headStarted) {
      headStarted = true;
      listener.onHeadStarted();
    }
    int from = in.readerIndex() + judgedAhead;
    int to = Math.min(in.writerIndex(), in.readerIndex() + maxHeadBytes);
    int stop = scanner.scan(in, from, to);
    if (scanner.refusal() != null) {
      return scanner.refusal();
    }
    judgedAhead = (stop < 0 ? to : stop) - in.readerIndex();
    return null;
  }

  /** Moves the phase along with what Netty consumed and produced. */
  private void advance(int consumed, List<Object> out, int produced) {
    for (int i = produced; i < out.size(); i++) {
      HttpObject message = (HttpObject) out.get(i);
      if (message.decoderResult().isFailure()) {
        // Netty refused it (size limits, bad Content-Length) and skipped the rest: nothing more is read
        message.setDecoderResult(DecoderResult.failure(asRefusal(message.decoderResult().cause())));
        phase = Phase.REFUSED;
        releaseFrom(out, i + 1);
        return;
      }
    }
    if (phase == Phase.CHUNKED_BODY && !chunks.inTrailers()) {
      chunks.consumed(consumed);
      if (chunks.inTrailers()) {
        scanner.startTrailers();
        judgedAhead = 0;
      }
    } else if (phase == Phase.HEAD || phase == Phase.CHUNKED_BODY) {
      judgedAhead = Math.max(0, judgedAhead - consumed);
    }
    for (int i = produced; i < out.size(); i++) {
      HttpObject message = (HttpObject) out.get(i);
      if (message instanceof HttpRequest request) {
        RequestRefusal refusal = scanner.done() ? RequestHeadRules.check(request)
            : new RequestRefusal(400, "malformed request head"); // Netty ended a head the scanner did not
        if (refusal != null) {
          request.setDecoderResult(DecoderResult.failure(refusal));
          phase = Phase.REFUSED; // its body, maybe a smuggled request, is never decoded
          releaseFrom(out, i + 1);
          return;
        }
        phase = HttpUtil.isTransferEncodingChunked(request) ? Phase.CHUNKED_BODY : Phase.FIXED_BODY;
        if (phase == Phase.CHUNKED_BODY) {
          if (chunks == null) {
            chunks = new ChunkFraming(maxRequestLineBytes);
          }
          chunks.start();
        }
        if (isWebSocketUpgrade(request)) {
          phase = Phase.UPGRADE_PENDING;
        }
      }
      if (message instanceof LastHttpContent && phase != Phase.UPGRADE_PENDING) {
        startHead();
      }
    }
  }

  /** Netty's own refusals, with the status they owe: 414 and 431 for size, 400 otherwise. */
  private static RequestRefusal asRefusal(Throwable cause) {
    if (cause instanceof RequestRefusal refusal) {
      return refusal;
    }
    if (cause instanceof TooLongHttpLineException) {
      return new RequestRefusal(414, "request line too long");
    }
    if (cause instanceof TooLongHttpHeaderException) {
      return new RequestRefusal(431, "request header fields too large");
    }
    String message = cause.getMessage();
    return new RequestRefusal(400, message == null ? "malformed request" : oneLine(message));
  }

  /** A reason safe to send back: one line of printable ASCII, not too long. */
  public static String oneLine(String text) {
    StringBuilder line = new StringBuilder(Math.min(text.length(), 200));
    for (int i = 0; i < text.length() && line.length() < 200; i++) {
      char c = text.charAt(i);
      line.append(c >= 0x20 && c < 0x7F ? c : '?');
    }
    return line.toString();
  }

  private void startHead() {
    phase = Phase.HEAD;
    scanner.startHead();
    headStarted = false;
    judgedAhead = 0;
  }

  /** A GET asking to switch to the WebSocket protocol (RFC 6455 section 4.1). */
  public static boolean isWebSocketUpgrade(HttpRequest request) {
    return request.method().equals(HttpMethod.GET)
        && request.headers().containsValue(HttpHeaderNames.UPGRADE, "websocket", true)
        && request.headers().containsValue(HttpHeaderNames.CONNECTION, "upgrade", true);
  }

  /** Ends decoding with a refused message: a request in a head, a last content mid-body. */
  private void refuse(ByteBuf in, List<Object> out, RequestRefusal refusal) {
    HttpObject refused = phase == Phase.HEAD
        ? new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/bad-request")
        : new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
    refused.setDecoderResult(DecoderResult.failure(refusal));
    phase = Phase.REFUSED;
    in.skipBytes(in.readableBytes());
    out.add(refused);
  }

  private static void releaseFrom(List<Object> out, int from) {
    for (int i = out.size() - 1; i >= from; i--) {
      ReferenceCountUtil.release(out.remove(i));
    }
  }

  @Override
  protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
    // Netty would drop Content-Length and read the body as chunked; keep both so that
    // RequestHeadRules refuses the message as ambiguous
  }
}
