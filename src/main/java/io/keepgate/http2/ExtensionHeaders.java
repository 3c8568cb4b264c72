package io.keepgate.http2;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http2.HttpConversionUtil;

/**
 * The {@code x-http2-*} headers Netty's HTTP/2-to-HTTP/1 conversion adds to a message (its stream
 * id, scheme, ...): they describe one hop and must never reach the next.
 *
 * <p>Threading: stateless.
 */
public final class ExtensionHeaders {
  private ExtensionHeaders() {}

  public static void strip(HttpHeaders headers) {
    for (HttpConversionUtil.ExtensionHeaderNames name : HttpConversionUtil.ExtensionHeaderNames.values()) {
      headers.remove(name.text());
    }
  }
}
