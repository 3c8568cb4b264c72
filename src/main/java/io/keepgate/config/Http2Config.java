package io.keepgate.config;

/**
 * HTTP/2 from clients ({@code server.http2}): {@code h2} by ALPN on the TLS listener, {@code h2c}
 * by prior knowledge on the cleartext one. Each stream is one request through the same routing,
 * pools and limits as HTTP/1.1.
 *
 * @param enabled              whether clients may speak HTTP/2 at all
 * @param h2c                  whether the cleartext listener accepts HTTP/2 by prior knowledge
 * @param maxConcurrentStreams streams a client connection may have open at once
 *                             ({@code SETTINGS_MAX_CONCURRENT_STREAMS})
 */
public record Http2Config(boolean enabled, boolean h2c, int maxConcurrentStreams) {

  /** On: HTTP/1.1 clients are served as before on the same listeners. */
  public static final boolean DEFAULT_ENABLED = true;
  /** On whenever HTTP/2 is. */
  public static final boolean DEFAULT_H2C = true;
  /** {@value}, as NGINX and Envoy's defaults for client connections. */
  public static final int DEFAULT_MAX_CONCURRENT_STREAMS = 100;
  public static final Http2Config DEFAULT = new Http2Config(DEFAULT_ENABLED, DEFAULT_H2C, DEFAULT_MAX_CONCURRENT_STREAMS);

  /** Whether the cleartext listener takes HTTP/2 by prior knowledge. */
  public boolean cleartext() {
    return enabled && h2c;
  }
}
