package io.keepgate.upstream;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.concurrent.TimeUnit;

/**
 * What a backend's {@code Keep-Alive: timeout=N} means for its connection: keepgate closes the
 * idle connection a safety margin before N seconds pass, so that it never sends a request into the
 * backend's own close (the keep-alive race).
 *
 * <p>Threading: stateless.
 */
public final class KeepAliveHeader {
  private KeepAliveHeader() {}

  /** The {@code timeout=N} of a {@code Keep-Alive} header, or -1. */
  public static int timeoutSeconds(HttpHeaders headers) {
    String value = headers.get(HttpHeaderNames.KEEP_ALIVE);
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

  /**
   * When to close a connection whose backend announced {@code timeoutSeconds}: a quarter of it
   * (between 250 ms and 1 s) before; {@code Long.MAX_VALUE} when none was announced.
   */
  static long deadline(long nowNanos, int timeoutSeconds) {
    if (timeoutSeconds < 0) {
      return Long.MAX_VALUE;
    }
    long timeoutMillis = timeoutSeconds * 1000L;
    return nowNanos + TimeUnit.MILLISECONDS.toNanos(timeoutMillis - marginMillis(timeoutMillis));
  }

  /** How long before a backend's keep-alive timeout keepgate closes: a quarter of it, between 250 ms and 1 s. */
  static long marginMillis(long timeoutMillis) {
    return Math.max(250, Math.min(1000, timeoutMillis / 4));
  }
}
