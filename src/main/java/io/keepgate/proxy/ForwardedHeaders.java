package io.keepgate.proxy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.util.List;

/**
 * The de-facto forwarding headers keepgate adds upstream, and the {@code Via} it adds both ways,
 * edited in place on the decoded message.
 *
 * <p>Threading: stateless.
 */
final class ForwardedHeaders {
  static final String VIA_NAME = "keepgate";
  private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
  private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
  private static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
  private static final String VIA_10 = "1.0 " + VIA_NAME;
  private static final String VIA_11 = "1.1 " + VIA_NAME;

  private ForwardedHeaders() {}

  /**
   * Appends the client to X-Forwarded-For and sets X-Forwarded-Proto and X-Forwarded-Host, from the
   * client's own headers (so call this before the Host header is rewritten).
   */
  static void addToRequest(HttpHeaders headers, String clientHost, String scheme) {
    String prior = joined(headers, X_FORWARDED_FOR);
    headers.set(X_FORWARDED_FOR, prior == null ? clientHost : prior + ", " + clientHost);
    headers.set(X_FORWARDED_PROTO, scheme);
    String host = headers.get(HttpHeaderNames.HOST);
    if (host != null) {
      headers.set(X_FORWARDED_HOST, host);
    }
  }

  /** Appends this hop, in the protocol version it received, to {@code Via}. */
  static void appendVia(HttpHeaders headers, HttpVersion receivedVersion) {
    String hop = receivedVersion.minorVersion() == 0 ? VIA_10 : VIA_11;
    String prior = joined(headers, HttpHeaderNames.VIA);
    headers.set(HttpHeaderNames.VIA, prior == null ? hop : prior + ", " + hop);
  }

  /** Every value of a header joined with ", ", or null when there is none. */
  private static String joined(HttpHeaders headers, CharSequence name) {
    String first = headers.get(name);
    if (first == null) {
      return null;
    }
    List<String> all = headers.getAll(name);
    return all.size() == 1 ? first : String.join(", ", all);
  }
}
