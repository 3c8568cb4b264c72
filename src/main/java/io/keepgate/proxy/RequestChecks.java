package io.keepgate.proxy;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import java.util.List;

/**
 * Refuses requests whose framing is ambiguous (request smuggling, RFC 9112 section 6.3) before
 * anything reaches a backend. Netty's decoder already rejects malformed request lines and headers.
 *
 * <p>Threading: stateless.
 */
final class RequestChecks {
  private RequestChecks() {}

  /** Why the request must be refused with 400, or {@code null} if it may be proxied. */
  static String rejectReason(HttpServerRequest request) {
    MultiMap headers = request.headers();
    if (request.decoderResult().isFailure()) {
      return "malformed request";
    }
    if (request.version() == HttpVersion.HTTP_1_1 && !headers.contains(HttpHeaders.HOST)) {
      return "HTTP/1.1 request without Host";
    }
    if (headers.getAll(HttpHeaders.HOST).size() > 1) {
      return "more than one Host header";
    }
    List<String> transferEncodings = headers.getAll(HttpHeaders.TRANSFER_ENCODING);
    if (!transferEncodings.isEmpty()) {
      if (headers.contains(HttpHeaders.CONTENT_LENGTH)) {
        return "both Content-Length and Transfer-Encoding";
      }
      if (transferEncodings.size() != 1 || !"chunked".equalsIgnoreCase(transferEncodings.get(0).trim())) {
        return "unsupported Transfer-Encoding (only a single, final chunked is accepted)";
      }
      if (request.version() == HttpVersion.HTTP_1_0) {
        return "Transfer-Encoding in an HTTP/1.0 request";
      }
    }
    List<String> lengths = headers.getAll(HttpHeaders.CONTENT_LENGTH);
    if (!lengths.isEmpty()) {
      String first = lengths.get(0);
      for (String length : lengths) {
        if (!isDigits(length) || !length.equals(first)) {
          return "invalid or conflicting Content-Length";
        }
      }
      if (lengths.size() > 1) {
        return "more than one Content-Length";
      }
    }
    return null;
  }

  private static boolean isDigits(String value) {
    if (value.isEmpty() || value.length() > 18) {
      return false;
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }
}
