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
 * @param maxConnections     client connections open at once; beyond it a new one gets 503 and is
 *                           closed; 0 = no limit but the process's file descriptors
 * @param sendTimeout        a client that takes no response byte for this long (NGINX's
 *                           {@code send_timeout}) loses its exchange
 * @param responseBufferBytes response bytes held for a client that does not read yet; past them
 *                           keepgate stops reading the upstream (the write buffer's high-water mark)
 * @param socketSendBufferBytes the kernel send buffer of each client socket ({@code SO_SNDBUF}, as
 *                           NGINX's {@code listen ... sndbuf=} and HAProxy's {@code tune.sndbuf.client});
 *                           0 leaves it to the kernel's autotuning, up to {@code net.ipv4.tcp_wmem}
 * @param tls                the TLS listener beside this one
 * @param proxyProtocol      PROXY protocol headers from trusted load balancers, on both listeners
 * @param http2              HTTP/2 from clients, on both listeners
 */
public record ServerConfig(
    String host,
    int port,
    Duration idleTimeout,
    Duration headerReadTimeout,
    int maxHeaderBytes,
    int maxRequestLineBytes,
    Duration drainTimeout,
    int eventLoops,
    int maxConnections,
    Duration sendTimeout,
    int responseBufferBytes,
    int socketSendBufferBytes,
    TlsConfig tls,
    ProxyProtocolConfig proxyProtocol,
    Http2Config http2) {

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
  /** {@value}: no limit but the process's file descriptors. */
  public static final int DEFAULT_MAX_CONNECTIONS = 0;
  /** 60 s, as NGINX's {@code send_timeout}. */
  public static final Duration DEFAULT_SEND_TIMEOUT = Duration.ofSeconds(60);
  /** {@value} bytes. */
  public static final int DEFAULT_RESPONSE_BUFFER_BYTES = 65536;
  /** {@value}: the kernel's autotuning. */
  public static final int DEFAULT_SOCKET_SEND_BUFFER_BYTES = 0;

  /** The number of proxy event loops to run, resolving 0 to the number of cores. */
  public int effectiveEventLoops() {
    return eventLoops > 0 ? eventLoops : Runtime.getRuntime().availableProcessors();
  }
}
