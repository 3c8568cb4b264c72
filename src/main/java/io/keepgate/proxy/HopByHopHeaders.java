package io.keepgate.proxy;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Copies end-to-end headers from one message to another, dropping hop-by-hop headers (RFC 9110
 * section 7.6.1): the fixed set below plus every header named in {@code Connection}. Bodies are
 * re-framed by each hop, so {@code Transfer-Encoding} never crosses keepgate.
 *
 * <p>Threading: stateless.
 */
final class HopByHopHeaders {
  private static final Set<String> ALWAYS = Set.of(
      "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
      "proxy-authenticate", "proxy-authorization");

  private HopByHopHeaders() {}

  /** Copies the end-to-end headers of {@code from} into {@code to}. */
  static void copyEndToEnd(MultiMap from, MultiMap to) {
    Set<String> named = namedInConnection(from);
    for (Map.Entry<String, String> header : from) {
      String name = header.getKey().toLowerCase(Locale.ROOT);
      if (!ALWAYS.contains(name) && (named == null || !named.contains(name))) {
        to.add(header.getKey(), header.getValue());
      }
    }
  }

  /** Header names listed in Connection, lower case, or {@code null} if it names none. */
  private static Set<String> namedInConnection(MultiMap headers) {
    Set<String> named = null;
    for (String value : headers.getAll(HttpHeaders.CONNECTION)) {
      for (String token : value.split(",")) {
        String name = token.trim().toLowerCase(Locale.ROOT);
        if (!name.isEmpty()) {
          if (named == null) {
            named = new HashSet<>();
          }
          named.add(name);
        }
      }
    }
    return named;
  }

  /** Whether {@code Connection} carries {@code token} (e.g. "close"), case-insensitively. */
  static boolean connectionHas(MultiMap headers, String token) {
    for (String value : headers.getAll(HttpHeaders.CONNECTION)) {
      for (String part : value.split(",")) {
        if (part.trim().equalsIgnoreCase(token)) {
          return true;
        }
      }
    }
    return false;
  }

  /** The {@code timeout=N} of a {@code Keep-Alive} header, or -1. */
  static int keepAliveTimeoutSeconds(MultiMap headers) {
    String value = headers.get("keep-alive");
    if (value == null) {
      return -1;
    }
    for (String param : value.split(",")) {
      String p = param.trim();
      if (p.regionMatches(true, 0, "timeout=", 0, 8)) {
        try {
          return Math.max(0, Integer.parseInt(p.substring(8).trim()));
        } catch (NumberFormatException e) {
          return -1;
        }
      }
    }
    return -1;
  }
}
