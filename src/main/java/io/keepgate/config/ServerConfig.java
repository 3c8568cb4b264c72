package io.keepgate.config;

import java.time.Duration;

/**
 * The client-facing proxy listener.
 *
 * @param host               interface to bind
 * @param port               port to bind; 0 picks a free port (tests)
 * @param idleTimeout        an idle client connection is closed after this long (HTTP keep-alive, client side)
 * @param headerReadTimeout  a client must deliver a complete request head within this long
 * @param maxHeaderBytes     request heads larger than this get 431
 * @param maxRequestLineBytes request lines longer than this get 414
 * @param drainTimeout       on SIGTERM, in-flight requests get this long to finish
 * @param eventLoops         proxy event loops; 0 means one per available core
 */
public record ServerConfig(
    String host,
    int port,
    Duration idleTimeout,
    Duration headerReadTimeout,
    int maxHeaderBytes,
    int maxRequestLineBytes,
    Duration drainTimeout,
    int eventLoops) {

  /** {@value}. */
  public static final String DEFAULT_HOST = "0.0.0.0";
  /** {@value}. */
  public static final int DEFAULT_PORT = 8080;
  /** 60 s. */
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);
  /** 10 s. */
  public static final Duration DEFAULT_HEADER_READ_TIMEOUT = Duration.ofSeconds(10);
  /** {@value} bytes. */
  public static final int DEFAULT_MAX_HEADER_BYTES = 16384;
  /** {@value} bytes. */
  public static final int DEFAULT_MAX_REQUEST_LINE_BYTES = 8192;
  /** 20 s. */
  public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(20);
  /** {@value}: one event loop per available core. */
  public static final int DEFAULT_EVENT_LOOPS = 0;

  /** The number of proxy event loops to run, resolving 0 to the number of cores. */
  public int effectiveEventLoops() {
    return eventLoops > 0 ? eventLoops : Runtime.getRuntime().availableProcessors();
  }
}
