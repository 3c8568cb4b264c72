package io.keepgate.metrics;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per proxied request on the {@code keepgate.access} logger, which logback.xml sends to
 * stdout through an asynchronous appender that drops lines rather than block an event loop.
 *
 * <p>Format: {@code client method path route=… endpoint=… status=… bytes=… total_ms=… upstream_ms=… conn=reused|new|none}.
 *
 * <p>Threading: safe from every event loop.
 */
public final class AccessLog {
  private static final Logger ACCESS = LoggerFactory.getLogger("keepgate.access");

  private final boolean enabled;

  public AccessLog(boolean enabled) {
    this.enabled = enabled && ACCESS.isInfoEnabled();
  }

  public boolean enabled() {
    return enabled;
  }

  /**
   * @param endpoint   the upstream endpoint, or "-" when none was reached
   * @param connection "reused", "new", or "none" when no upstream connection was used
   * @param upstreamNanos time from sending upstream to the response end, or -1
   */
  public void log(String client, String method, String path, String route, String endpoint, int status, long bytes,
      long totalNanos, long upstreamNanos, String connection) {
    if (!enabled) {
      return;
    }
    StringBuilder line = new StringBuilder(160)
        .append(client).append(' ').append(method).append(' ').append(path)
        .append(" route=").append(route)
        .append(" endpoint=").append(endpoint)
        .append(" status=").append(status)
        .append(" bytes=").append(bytes)
        .append(" total_ms=");
    appendMillis(line, totalNanos).append(" upstream_ms=");
    if (upstreamNanos < 0) {
      line.append('-');
    } else {
      appendMillis(line, upstreamNanos);
    }
    line.append(" conn=").append(connection);
    ACCESS.info(line.toString());
  }

  private static StringBuilder appendMillis(StringBuilder line, long nanos) {
    long micros = nanos / 1000;
    line.append(micros / 1000).append('.');
    long fraction = micros % 1000;
    if (fraction < 100) {
      line.append('0');
    }
    if (fraction < 10) {
      line.append('0');
    }
    return line.append(fraction);
  }
}
