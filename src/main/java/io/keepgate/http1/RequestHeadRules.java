package io.keepgate.http1;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.util.Iterator;

/**
 * The rules a decoded request head must pass before anything of it is forwarded, on what Netty
 * decoded (the raw syntax was judged by {@link HeadScanner} on the same bytes): unambiguous framing
 * (no Content-Length with Transfer-Encoding, at most one Content-Length, of digits only, and no
 * Transfer-Encoding but one final {@code chunked}, never in HTTP/1.0), exactly one Host (none
 * allowed in HTTP/1.0), and a target in origin form, absolute form naming the Host, or {@code *}
 * for OPTIONS.
 *
 * <p>Threading: stateless.
 */
public final class RequestHeadRules {
  private RequestHeadRules() {}

  /** Why this request must be refused with 400, or {@code null} when it may be forwarded. */
  public static RequestRefusal check(HttpRequest request) {
    HttpHeaders headers = request.headers();
    boolean http10 = request.protocolVersion().minorVersion() == 0;
    String reason = framing(headers, http10);
    if (reason == null) {
      reason = host(headers, http10, request);
    }
    return reason == null ? null : new RequestRefusal(400, reason);
  }

  private static String framing(HttpHeaders headers, boolean http10) {
    String contentLength = null;
    int contentLengths = 0;
    for (Iterator<String> it = headers.valueStringIterator(HttpHeaderNames.CONTENT_LENGTH); it.hasNext(); ) {
      contentLength = it.next();
      contentLengths++;
    }
    if (headers.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
      if (contentLengths > 0) {
        return "both Content-Length and Transfer-Encoding";
      }
      if (http10) {
        return "Transfer-Encoding in an HTTP/1.0 request";
      }
      Iterator<String> codings = headers.valueStringIterator(HttpHeaderNames.TRANSFER_ENCODING);
      String only = codings.next();
      if (codings.hasNext() || !only.trim().equalsIgnoreCase("chunked")) {
        return "unsupported Transfer-Encoding (only one final chunked is accepted)";
      }
    }
    if (contentLengths > 1 || (contentLength != null && contentLength.indexOf(',') >= 0)) {
      return "more than one Content-Length";
    }
    if (contentLength != null && !isDigits(contentLength.trim())) {
      return "invalid Content-Length";
    }
    return null;
  }

  private static String host(HttpHeaders headers, boolean http10, HttpRequest request) {
    String host = null;
    int hosts = 0;
    for (Iterator<String> it = headers.valueStringIterator(HttpHeaderNames.HOST); it.hasNext(); ) {
      host = it.next();
      hosts++;
    }
    if (hosts > 1) {
      return "more than one Host header";
    }
    if (hosts == 0 && !http10) {
      return "HTTP/1.1 request without Host";
    }
    String target = request.uri();
    if (target.startsWith("/")) {
      return null;
    }
    if (target.equals("*") && request.method().equals(HttpMethod.OPTIONS)) {
      return null;
    }
    int authorityStart = target.regionMatches(true, 0, "http://", 0, 7) ? 7
        : target.regionMatches(true, 0, "https://", 0, 8) ? 8 : -1;
    if (authorityStart < 0) {
      return "unsupported request target form (expected: /path, or absolute form)";
    }
    int authorityEnd = target.indexOf('/', authorityStart);
    String authority = target.substring(authorityStart, authorityEnd < 0 ? target.length() : authorityEnd);
    if (host == null || !hostOf(authority).equalsIgnoreCase(hostOf(host.trim()))) {
      return "absolute-form target names a host other than Host";
    }
    return null;
  }

  /** The host of an authority, without its port. */
  static String hostOf(String authority) {
    int bracket = authority.lastIndexOf(']');
    int colon = authority.lastIndexOf(':');
    return colon > bracket ? authority.substring(0, colon) : authority;
  }

  private static boolean isDigits(String value) {
    if (value.isEmpty() || value.length() > 18) {
      return false;
    }
    for (int i = 0; i < value.length(); i++) {
      if (value.charAt(i) < '0' || value.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }
}
