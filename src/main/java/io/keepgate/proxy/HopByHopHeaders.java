package io.keepgate.proxy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Removes hop-by-hop headers from a decoded message in place (RFC 9110 section 7.6.1): the fixed
 * set below plus every header named in {@code Connection}, except the ones that frame the message
 * or route it ({@code Content-Length}, {@code Host}), which a client could otherwise strip by naming
 * them to desynchronise the upstream connection. Bodies are re-framed by each hop, so the caller
 * sets {@code Transfer-Encoding} again when it re-chunks one.
 *
 * <p>Threading: stateless.
 */
final class HopByHopHeaders {
  private HopByHopHeaders() {}

  /** Removes the hop-by-hop headers of {@code headers}. Most messages have none: one pass finds that out. */
  static void strip(HttpHeaders headers) {
    if (!hasAny(headers)) {
      return;
    }
    List<String> named = null;
    for (Iterator<String> values = headers.valueStringIterator(HttpHeaderNames.CONNECTION); values.hasNext(); ) {
      for (String token : values.next().split(",")) {
        String name = token.trim();
        if (!name.isEmpty() && !protectedName(name)) {
          if (named == null) {
            named = new ArrayList<>(2);
          }
          named.add(name);
        }
      }
    }
    if (named != null) {
      named.forEach(headers::remove);
    }
    headers.remove(HttpHeaderNames.CONNECTION)
        .remove(HttpHeaderNames.KEEP_ALIVE)
        .remove(HttpHeaderNames.PROXY_CONNECTION)
        .remove(HttpHeaderNames.TE)
        .remove(HttpHeaderNames.TRAILER)
        .remove(HttpHeaderNames.TRANSFER_ENCODING)
        .remove(HttpHeaderNames.UPGRADE)
        .remove(HttpHeaderNames.PROXY_AUTHENTICATE)
        .remove(HttpHeaderNames.PROXY_AUTHORIZATION);
  }

  private static boolean hasAny(HttpHeaders headers) {
    for (Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence(); it.hasNext(); ) {
      if (isHopByHop(it.next().getKey())) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code name} is one of the fixed hop-by-hop headers; by length first, so most names cost one switch. */
  static boolean isHopByHop(CharSequence name) {
    return switch (name.length()) {
      case 2 -> AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.TE);
      case 7 -> AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.UPGRADE)
          || AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.TRAILER);
      case 10 -> AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.CONNECTION)
          || AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.KEEP_ALIVE);
      case 16 -> AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.PROXY_CONNECTION);
      case 17 -> AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.TRANSFER_ENCODING);
      case 18 -> AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.PROXY_AUTHENTICATE);
      case 19 -> AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.PROXY_AUTHORIZATION);
      default -> false;
    };
  }

  private static boolean protectedName(String name) {
    return name.equalsIgnoreCase("content-length") || name.equalsIgnoreCase("host");
  }

  /** Whether {@code Connection} carries {@code token} (e.g. "close"), case-insensitively. */
  static boolean connectionHas(HttpHeaders headers, String token) {
    return headers.containsValue(HttpHeaderNames.CONNECTION, token, true);
  }
}
