package io.keepgate.proxy;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Copies end-to-end headers from one message to another, dropping hop-by-hop headers (RFC 9110
 * section 7.6.1): the fixed set below plus every header named in {@code Connection}. Bodies are
 * re-framed by each hop, so {@code Transfer-Encoding} never crosses keepgate.
 *
 * <p>Threading: stateless.
 */
final class HopByHopHeaders {
  /** Case-insensitive, so the per-request check allocates nothing. */
  private static final Set<String> ALWAYS = caseInsensitive(
      "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
      "proxy-authenticate", "proxy-authorization");

  private HopByHopHeaders() {}

  /** Copies the end-to-end headers of {@code from} into {@code to}. */
  static void copyEndToEnd(MultiMap from, MultiMap to) {
    Set<String> named = namedInConnection(from);
    for (Map.Entry<String, String> header : from) {
      String name = header.getKey();
      if (!ALWAYS.contains(name) && (named == null || !named.contains(name))) {
        to.add(name, header.getValue());
      }
    }
  }

  private static Set<String> caseInsensitive(String... names) {
    Set<String> set = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
    set.addAll(List.of(names));
    return set;
  }

  /** Header names listed in Connection (case-insensitive set), or {@code null} when there is no Connection header. */
  private static Set<String> namedInConnection(MultiMap headers) {
    Set<String> named = null;
    for (String value : headers.getAll(HttpHeaders.CONNECTION)) {
      for (String token : value.split(",")) {
        String name = token.trim();
        if (!name.isEmpty()) {
          if (named == null) {
            named = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
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
