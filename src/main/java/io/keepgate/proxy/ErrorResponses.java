package io.keepgate.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;

/**
 * keepgate's own answers: a status and a one-line plain-text reason (SPEC section 3); to a gRPC
 * request, the same as a gRPC status ({@link #grpc}).
 *
 * <p>Threading: stateless.
 */
final class ErrorResponses {
  private static final AsciiString TEXT_PLAIN = AsciiString.cached("text/plain; charset=utf-8");
  private static final AsciiString APPLICATION_GRPC = AsciiString.cached("application/grpc");
  private static final AsciiString GRPC_STATUS = AsciiString.cached("grpc-status");
  private static final AsciiString GRPC_MESSAGE = AsciiString.cached("grpc-message");

  private ErrorResponses() {}

  /** {@code status} with {@code reason} as its body; {@code Connection: close} when the connection closes after it. */
  static FullHttpResponse of(int status, String reason, boolean close) {
    ByteBuf body = Unpooled.copiedBuffer(reason + "\n", StandardCharsets.UTF_8);
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status), body);
    response.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, TEXT_PLAIN)
        .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
    if (close) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    return response;
  }

  /** Whether {@code contentType} is a gRPC request's ({@code application/grpc}, {@code application/grpc+proto}, ...). */
  static boolean isGrpc(String contentType) {
    return contentType != null && contentType.regionMatches(true, 0, "application/grpc", 0, 16);
  }

  /**
   * The answer {@code status} means to a gRPC client: 200 with no message and the gRPC status in
   * its headers ("trailers-only"), so that the client sees {@code UNAVAILABLE} or
   * {@code DEADLINE_EXCEEDED} rather than a protocol error about an HTTP status.
   */
  static FullHttpResponse grpc(int status, String reason, boolean close) {
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
        Unpooled.EMPTY_BUFFER);
    response.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, APPLICATION_GRPC)
        .setInt(HttpHeaderNames.CONTENT_LENGTH, 0)
        .setInt(GRPC_STATUS, grpcStatus(status))
        .set(GRPC_MESSAGE, percentEncoded(reason));
    if (close) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    return response;
  }

  /** The end of a gRPC response that broke off: the gRPC status for {@code status}, with the reason, in trailers. */
  static LastHttpContent grpcTrailers(int status, String reason) {
    LastHttpContent last = new DefaultLastHttpContent();
    last.trailingHeaders().setInt(GRPC_STATUS, grpcStatus(status)).set(GRPC_MESSAGE, percentEncoded(reason));
    return last;
  }

  /** The gRPC status code for one of keepgate's HTTP answers (gRPC's own HTTP mapping, timeouts as deadlines). */
  static int grpcStatus(int status) {
    return switch (status) {
      case 400 -> 13; // INTERNAL
      case 404, 405 -> 12; // UNIMPLEMENTED: no route for this method
      case 408, 504 -> 4; // DEADLINE_EXCEEDED
      case 413, 429, 431 -> 8; // RESOURCE_EXHAUSTED
      case 502, 503 -> 14; // UNAVAILABLE: the client may retry
      default -> 2; // UNKNOWN
    };
  }

  /** grpc-message is percent-encoded outside printable ASCII, and '%' itself (gRPC over HTTP/2). */
  private static String percentEncoded(String message) {
    StringBuilder out = new StringBuilder(message.length());
    for (byte b : message.getBytes(StandardCharsets.UTF_8)) {
      if (b >= 0x20 && b < 0x7f && b != '%') {
        out.append((char) b);
      } else {
        out.append('%').append(Character.toUpperCase(Character.forDigit((b >> 4) & 0xf, 16)))
            .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
      }
    }
    return out.toString();
  }
}
