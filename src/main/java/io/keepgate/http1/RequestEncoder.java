package io.keepgate.http1;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.HttpConstants;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import java.nio.charset.StandardCharsets;

/**
 * Netty's request encoder, writing the request target byte for byte as it arrived. The decoder
 * reads the target as ISO-8859-1 (one char per byte); Netty's encoder writes it as UTF-8, which
 * turns every byte above 0x7F into two. A proxy must never rewrite the target.
 *
 * <p>Threading: one per upstream connection, on its event loop.
 */
public final class RequestEncoder extends HttpRequestEncoder {
  private static final int CRLF = (HttpConstants.CR << 8) | HttpConstants.LF;

  @Override
  protected void encodeInitialLine(ByteBuf buf, HttpRequest request) {
    ByteBufUtil.copy(request.method().asciiName(), buf);
    buf.writeByte(HttpConstants.SP);
    buf.writeCharSequence(request.uri(), StandardCharsets.ISO_8859_1);
    buf.writeByte(HttpConstants.SP);
    ByteBufUtil.writeAscii(buf, request.protocolVersion().text());
    ByteBufUtil.writeShortBE(buf, CRLF);
  }
}
