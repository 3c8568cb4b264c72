package io.keepgate.metrics;

/**
 * Every keepgate meter, in Micrometer's dotted form; the Prometheus names (SPEC section 5) follow.
 * Labels never carry a raw path or client address, so cardinality stays bounded by config.
 */
public final class MetricNames {
  /** Gauge {@code keepgate_upstream_connections{upstream,endpoint,state="active|idle"}}. */
  public static final String UPSTREAM_CONNECTIONS = "keepgate.upstream.connections";
  /** Counter {@code keepgate_upstream_connections_opened_total{upstream,endpoint}}. */
  public static final String UPSTREAM_CONNECTIONS_OPENED = "keepgate.upstream.connections.opened";
  /** Counter {@code keepgate_upstream_connections_closed_total{upstream,endpoint,reason}}. */
  public static final String UPSTREAM_CONNECTIONS_CLOSED = "keepgate.upstream.connections.closed";
  /** Counter {@code keepgate_upstream_connect_failures_total{upstream,endpoint}}. */
  public static final String UPSTREAM_CONNECT_FAILURES = "keepgate.upstream.connect.failures";
  /** Gauge {@code keepgate_upstream_pending_requests{upstream,endpoint}}: requests waiting for a connection. */
  public static final String UPSTREAM_PENDING_REQUESTS = "keepgate.upstream.pending.requests";
  /** Gauge {@code keepgate_upstream_pending_requests_limit{upstream,endpoint}}: {@code maxPendingRequests}, for alerts on a queue near full. */
  public static final String UPSTREAM_PENDING_LIMIT = "keepgate.upstream.pending.requests.limit";
  /** Counter {@code keepgate_upstream_requests_total{upstream,endpoint}}: requests sent (one per lease). */
  public static final String UPSTREAM_REQUESTS = "keepgate.upstream.requests";
  /** Counter {@code keepgate_upstream_retries_total{upstream,endpoint}}: requests retried after the keep-alive race. */
  public static final String UPSTREAM_RETRIES = "keepgate.upstream.retries";
  /**
   * Gauge {@code keepgate_upstream_idle_timeout_seconds{upstream,endpoint}}: how long an idle pooled
   * connection is kept now: {@code pool.idleTimeoutMs}, or less once the backend's own keep-alive
   * timeout is learned.
   */
  public static final String UPSTREAM_IDLE_TIMEOUT = "keepgate.upstream.idle.timeout";
  /**
   * Gauge {@code keepgate_upstream_backend_keepalive_timeout_seconds{upstream,endpoint}}: the backend's
   * HTTP keep-alive timeout as learned from its closes (on this node or another); NaN while unknown.
   */
  public static final String UPSTREAM_BACKEND_KEEPALIVE_TIMEOUT = "keepgate.upstream.backend.keepalive.timeout";
  /**
   * Counter {@code keepgate_upstream_backend_closes_total{upstream,endpoint,when="idle|reuse"}}: pooled
   * connections the backend closed while idle, or just reused and before any response byte (the
   * keep-alive race); what the keep-alive timeout is learned from.
   */
  public static final String UPSTREAM_BACKEND_CLOSES = "keepgate.upstream.backend.closes";
  /**
   * Counter {@code keepgate_upstream_retries_refused_total{upstream,endpoint}}: requests the endpoint
   * failed that were not sent again because the upstream's cluster-wide retry budget was spent.
   */
  public static final String UPSTREAM_RETRIES_REFUSED = "keepgate.upstream.retries.refused";
  /**
   * Gauge {@code keepgate_upstream_retry_budget_per_second{upstream}}: retries per second this node may
   * make to the upstream now, its part of the cluster's budget (upstreams with {@code retryBudget} on).
   */
  public static final String UPSTREAM_RETRY_BUDGET = "keepgate.upstream.retry.budget.per.second";
  /**
   * Counter {@code keepgate_upstream_connects_paced_total{upstream,endpoint}}: connections opened
   * after waiting for the endpoint's connect rate ({@code pool.connectRate}).
   */
  public static final String UPSTREAM_CONNECTS_PACED = "keepgate.upstream.connects.paced";
  /** Gauge {@code keepgate_upstream_connect_rate{upstream,endpoint}}: this node's share of the connect rate per second; 0 = unpaced. */
  public static final String UPSTREAM_CONNECT_RATE = "keepgate.upstream.connect.rate";
  /** Counter {@code keepgate_upstream_warmup_connections_total{upstream,endpoint}}: connections a warm hand-off opened before readiness. */
  public static final String UPSTREAM_WARMUP_CONNECTIONS = "keepgate.upstream.warmup.connections";
  /** Gauge {@code keepgate_upstream_healthy{upstream,endpoint}}: 1 while the endpoint takes traffic. */
  public static final String UPSTREAM_HEALTHY = "keepgate.upstream.healthy";
  /** Counter {@code keepgate_requests_total{route,code}}: client requests answered. */
  public static final String REQUESTS = "keepgate.requests";
  /** Histogram {@code keepgate_request_duration_seconds{route,code}}: first byte in to last byte out. */
  public static final String REQUEST_DURATION = "keepgate.request.duration";

  /** Counter {@code keepgate_access_log_dropped_total}: access log lines dropped because stdout could not keep up. */
  public static final String ACCESS_LOG_DROPPED = "keepgate.access.log.dropped";

  /** Counter {@code keepgate_client_connections_refused_total{reason="max_connections|file_descriptors"}}. */
  public static final String CLIENT_CONNECTIONS_REFUSED = "keepgate.client.connections.refused";
  /** Counter {@code keepgate_client_send_timeouts_total}: exchanges lost because the client took no byte for sendTimeoutMs. */
  public static final String CLIENT_SEND_TIMEOUTS = "keepgate.client.send.timeouts";
  /** Counter {@code keepgate_tls_handshakes_total{side="client",result}}: TLS handshakes by result (success, timeout, bad_record, no_shared_protocol_or_cipher, failed). */
  public static final String TLS_HANDSHAKES = "keepgate.tls.handshakes";
  /**
   * Counter {@code keepgate_tls_sni_total{result="matched|unknown|none"}}: client handshakes by what
   * their SNI name got: a certificate that covers it, or the default certificate for a name no
   * certificate covers ({@code unknown}) or for no name at all ({@code none}).
   */
  public static final String TLS_SNI = "keepgate.tls.sni";
  /** Counter {@code keepgate_upstream_tls_handshakes_total{upstream,endpoint}}: TLS handshakes with the endpoint (one per new connection). */
  public static final String UPSTREAM_TLS_HANDSHAKES = "keepgate.upstream.tls.handshakes";
  /** Counter {@code keepgate_upstream_tls_handshake_seconds_total{upstream,endpoint}}: time spent in them. */
  public static final String UPSTREAM_TLS_HANDSHAKE_SECONDS = "keepgate.upstream.tls.handshake.seconds";
  /**
   * Gauge {@code keepgate_tls_certificate_expiry_seconds{name,file}}: seconds until a serving
   * certificate expires (negative: expired); {@code name} is its first SAN DNS name, {@code file}
   * its {@code certFile}, so that two certificates for one name show apart.
   */
  public static final String TLS_CERTIFICATE_EXPIRY = "keepgate.tls.certificate.expiry";
  /** Counter {@code keepgate_tls_certificate_reloads_total{result="applied|rejected"}}: certificate files that changed. */
  public static final String TLS_CERTIFICATE_RELOADS = "keepgate.tls.certificate.reloads";
  /** Counter {@code keepgate_proxy_protocol_headers_total{result="accepted|untrusted|malformed"}}: PROXY headers seen. */
  public static final String PROXY_PROTOCOL_HEADERS = "keepgate.proxy.protocol.headers";
  /**
   * Counter {@code keepgate_http2_goaways_total{error}}: GOAWAY frames sent to HTTP/2 clients, by
   * error code: {@code no_error} for drains, {@code enhance_your_calm} for a client past a flood
   * limit, {@code protocol_error} and the others for one that broke the protocol.
   */
  public static final String HTTP2_GOAWAYS = "keepgate.http2.goaways";
  /** Gauge {@code keepgate_upstream_endpoints{upstream,state="ready|draining"}}: endpoints taking requests, and leaving. */
  public static final String UPSTREAM_ENDPOINTS = "keepgate.upstream.endpoints";
  /** Counter {@code keepgate_discovery_updates_total{upstream,source,result="changed|unchanged|empty|failed"}}. */
  public static final String DISCOVERY_UPDATES = "keepgate.discovery.updates";
  /** Counter {@code keepgate_accept_failures_total}: accepts the proxy listener could not complete (e.g. out of file descriptors). */
  public static final String ACCEPT_FAILURES = "keepgate.accept.failures";

  /** Gauge {@code keepgate_direct_memory_used_bytes}: direct memory held by the data plane's buffers (Netty's allocator). */
  public static final String DIRECT_MEMORY_USED = "keepgate.direct.memory.used";

  /** Gauge {@code keepgate_client_connections}: client connections open on the proxy listener. */
  public static final String CLIENT_CONNECTIONS = "keepgate.client.connections";
  /** Counter {@code keepgate_config_reloads_total{result="applied|rejected|unreadable"}}. */
  public static final String CONFIG_RELOADS = "keepgate.config.reloads";
  /** Gauge {@code keepgate_config_version}: 1 at start, one more per applied reload. */
  public static final String CONFIG_VERSION = "keepgate.config.version";
  /** Gauge {@code keepgate_cluster_members}: members this node sees in its cluster (registered with the cluster on). */
  public static final String CLUSTER_MEMBERS = "keepgate.cluster.members";

  public static final String TAG_UPSTREAM = "upstream";
  public static final String TAG_ENDPOINT = "endpoint";
  public static final String TAG_STATE = "state";
  public static final String TAG_REASON = "reason";
  public static final String TAG_WHEN = "when";
  public static final String TAG_ROUTE = "route";
  public static final String TAG_CODE = "code";
  public static final String TAG_RESULT = "result";

  /** The {@code route} label of requests that matched no route. */
  public static final String NO_ROUTE = "no_route";

  private MetricNames() {}
}
