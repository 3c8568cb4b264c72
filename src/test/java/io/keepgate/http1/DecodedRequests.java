package io.keepgate.http1;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs bytes through a {@link RequestDecoder} in an {@link EmbeddedChannel} (no sockets), whole
 * or one byte per read, and collects what comes out. Test thread only.
 */
final class DecodedRequests {
  static final int MAX_REQUEST_LINE = 1024;
  static final int MAX_HEADER = 2048;

  final List<HttpObject> messages = new ArrayList<>();
  int headsStarted;

  static DecodedRequests decode(String wire, boolean byteByByte) {
    DecodedRequests result = new DecodedRequests();
    EmbeddedChannel channel = new EmbeddedChannel(
        new RequestDecoder(MAX_REQUEST_LINE, MAX_HEADER, () -> result.headsStarted++));
    byte[] bytes = wire.getBytes(StandardCharsets.ISO_8859_1);
    if (byteByByte) {
      for (byte b : bytes) {
        channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
      }
    } else {
      channel.writeInbound(Unpooled.wrappedBuffer(bytes));
    }
    channel.finish(); // the end of input: a head cut short is refused too
    for (Object message; (message = channel.readInbound()) != null; ) {
      result.messages.add((HttpObject) message);
    }
    channel.finishAndReleaseAll();
    return result;
  }

  /** The first request, or null. */
  HttpRequest firstRequest() {
    return messages.stream().filter(m -> m instanceof HttpRequest).map(m -> (HttpRequest) m).findFirst().orElse(null);
  }

  /** Whether the first request came out and passed. */
  boolean accepted() {
    HttpRequest first = firstRequest();
    return first != null && first.decoderResult().isSuccess();
  }

  /** The refusal of the first failed message, or null when none failed. */
  Throwable refusal() {
    return messages.stream().filter(m -> m.decoderResult().isFailure()).map(m -> m.decoderResult().cause())
        .findFirst().orElse(null);
  }

  /** Every request that came out, in order, as "METHOD target". */
  List<String> requestLines() {
    return messages.stream().filter(m -> m instanceof HttpRequest).map(m -> (HttpRequest) m)
        .map(r -> r.method() + " " + r.uri()).toList();
  }

  void release() {
    messages.forEach(ReferenceCountUtil::release);
  }
}
