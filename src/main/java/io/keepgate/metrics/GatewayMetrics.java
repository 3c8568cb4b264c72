package io.keepgate.metrics;

import static io.keepgate.metrics.MetricNames.*;

import io.keepgate.upstream.CloseReason;
import io.keepgate.upstream.EndpointStats;
import io.keepgate.upstream.RetryBudget;
import io.keepgate.upstream.Upstream;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * keepgate's own meters on a Micrometer registry (the Vert.x and JVM meters sit beside them).
 *
 * <p>Threading: safe from every event loop. Per-request meters are looked up in a per-route array
 * indexed by status code, so the request path does no registry lookup after the first hit.
 */
public final class GatewayMetrics {
  /** Histogram buckets of request duration: 1 ms to 30 s. */
  private static final Duration[] DURATION_BUCKETS = {
      Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10),
      Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
      Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
      Duration.ofSeconds(10), Duration.ofSeconds(30)};

  private final MeterRegistry registry;
  private final ConcurrentHashMap<String, AtomicReferenceArray<RequestMeters>> byRoute = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Endpoint> byEndpoint = new ConcurrentHashMap<>();
  private final Counter reloadsApplied;
  private final Counter reloadsRejected;
  private final Counter reloadsUnreadable;
  private final Counter sendTimeouts;
  private final Counter acceptFailures;
  private final MultiGauge upstreamEndpoints;
  private final MultiGauge retryBudgets;
  private final AtomicInteger configVersion = new AtomicInteger(1);
  private final LongAdder clientConnections = new LongAdder();
  private final Map<ServedCertificate, Instant> certificateExpiries = new ConcurrentHashMap<>();

  /** A serving certificate, as its expiry gauge is labelled: its first SAN DNS name and its {@code certFile}. */
  public record ServedCertificate(String name, String file) {}

  public GatewayMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.reloadsApplied = Counter.builder(CONFIG_RELOADS).tag(TAG_RESULT, "applied").register(registry);
    this.reloadsRejected = Counter.builder(CONFIG_RELOADS).tag(TAG_RESULT, "rejected").register(registry);
    this.reloadsUnreadable = Counter.builder(CONFIG_RELOADS).tag(TAG_RESULT, "unreadable").register(registry);
    Gauge.builder(CONFIG_VERSION, configVersion, AtomicInteger::get).register(registry);
    this.sendTimeouts = Counter.builder(CLIENT_SEND_TIMEOUTS).register(registry);
    if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider allocator) {
      Gauge.builder(DIRECT_MEMORY_USED, allocator, a -> a.metric().usedDirectMemory()).baseUnit("bytes").register(registry);
    }
    this.acceptFailures = Counter.builder(ACCEPT_FAILURES).register(registry);
    this.upstreamEndpoints = MultiGauge.builder(UPSTREAM_ENDPOINTS).register(registry);
    this.retryBudgets = MultiGauge.builder(UPSTREAM_RETRY_BUDGET).register(registry);
    for (String reason : new String[] {"max_connections", "file_descriptors"}) {
      Counter.builder(CLIENT_CONNECTIONS_REFUSED).tag(TAG_REASON, reason).register(registry); // shown at 0 from the start
    }
    Gauge.builder(CLIENT_CONNECTIONS, clientConnections, LongAdder::sum).register(registry);
    FunctionCounter.builder(TLS_HANDSHAKES, byEndpoint, m -> sum(m, EndpointStats::tlsHandshakes))
        .tag("side", "upstream").tag(TAG_RESULT, "success").register(registry);
    FunctionCounter.builder(TLS_HANDSHAKES, byEndpoint, m -> sum(m, EndpointStats::tlsHandshakeFailures))
        .tag("side", "upstream").tag(TAG_RESULT, "failed").register(registry);
  }

  /** A count summed over every endpoint's stats (endpoints that left the config no longer count). */
  private static double sum(Map<String, Endpoint> endpoints, java.util.function.ToLongFunction<EndpointStats> count) {
    long total = 0;
    for (Endpoint endpoint : endpoints.values()) {
      total += count.applyAsLong(endpoint.stats());
    }
    return total;
  }

  /** The members this node sees, for {@code keepgate_cluster_members} (a clustered node only). */
  public void bindCluster(IntSupplier members) {
    Gauge.builder(CLUSTER_MEMBERS, members, IntSupplier::getAsInt).register(registry);
  }

  /** Publishes how many access log lines were dropped. */
  public void bindAccessLog(AccessLog accessLog) {
    FunctionCounter.builder(ACCESS_LOG_DROPPED, accessLog, AccessLog::dropped).register(registry);
  }

  /** A client connection refused at once, for {@code reason} ({@code max_connections} or {@code file_descriptors}). */
  public void clientConnectionRefused(String reason) {
    Counter.builder(CLIENT_CONNECTIONS_REFUSED).tag(TAG_REASON, reason).register(registry).increment();
  }

  /** A client took no response byte for {@code server.sendTimeoutMs}: its exchange was dropped. */
  public void sendTimedOut() {
    sendTimeouts.increment();
  }

  /** A TLS handshake ended, on {@code side} {@code client} (the TLS listener) with {@code result}. */
  public void tlsHandshake(String side, String result) {
    Counter.builder(TLS_HANDSHAKES).tag("side", side).tag(TAG_RESULT, result).register(registry).increment();
  }

  /** Certificate files changed: {@code applied} or {@code rejected} (the previous ones keep serving). */
  public void tlsCertificateReload(String result) {
    Counter.builder(TLS_CERTIFICATE_RELOADS).tag(TAG_RESULT, result).register(registry).increment();
  }

  /** A client handshake's SNI name got a certificate that covers it ({@code matched}), or the default ({@code unknown}, {@code none}). */
  public void tlsSni(String result) {
    Counter.builder(TLS_SNI).tag(TAG_RESULT, result).register(registry).increment();
  }

  /** The certificates serving now, with their expiry: a gauge each; gauges of replaced ones go. */
  public synchronized void tlsCertificates(Map<ServedCertificate, Instant> next) {
    certificateExpiries.keySet().removeIf(served -> {
      if (next.containsKey(served)) {
        return false;
      }
      registry.find(TLS_CERTIFICATE_EXPIRY).tag("name", served.name()).tag("file", served.file()).meters()
          .forEach(registry::remove);
      return true;
    });
    next.forEach((served, notAfter) -> {
      if (certificateExpiries.put(served, notAfter) == null) {
        Gauge.builder(TLS_CERTIFICATE_EXPIRY, certificateExpiries,
                m -> m.containsKey(served) ? Duration.between(Instant.now(), m.get(served)).toSeconds() : Double.NaN)
            .tag("name", served.name()).tag("file", served.file()).baseUnit("seconds").register(registry);
      }
    });
  }

  /** A PROXY protocol header: {@code accepted}, or refused as {@code untrusted} or {@code malformed} (connection closed). */
  public void proxyProtocolHeader(String result) {
    Counter.builder(PROXY_PROTOCOL_HEADERS).tag(TAG_RESULT, result).register(registry).increment();
  }

  /** A GOAWAY sent to an HTTP/2 client, by error code ({@code no_error}, {@code enhance_your_calm}, ...). */
  public void http2GoAway(String error) {
    Counter.builder(HTTP2_GOAWAYS).tag("error", error).register(registry).increment();
  }

  /** The upstreams of the running config: ready and draining endpoints of each, and its retry budget part, read live. */
  public void upstreams(java.util.Collection<Upstream> upstreams) {
    List<MultiGauge.Row<?>> rows = new ArrayList<>();
    for (Upstream upstream : upstreams) {
      rows.add(MultiGauge.Row.of(Tags.of(TAG_UPSTREAM, upstream.name(), TAG_STATE, "ready"), upstream,
          u -> u.endpoints().size()));
      rows.add(MultiGauge.Row.of(Tags.of(TAG_UPSTREAM, upstream.name(), TAG_STATE, "draining"), upstream,
          u -> u.drainingEndpoints().size()));
    }
    upstreamEndpoints.register(rows, true);
    // each upstream's part of its retry budget on this node, where one is on
    retryBudgets.register(upstreams.stream().filter(upstream -> upstream.retryBudget().enabled())
        .map(upstream -> MultiGauge.Row.of(Tags.of(TAG_UPSTREAM, upstream.name()), upstream.retryBudget(),
            RetryBudget::allowancePerSecond))
        .toList(), true);
  }

  /**
   * One answer of {@code upstream}'s discovery ({@code source} {@code dns} or {@code kubernetes}):
   * {@code changed}, {@code unchanged}, {@code empty} or {@code failed}.
   */
  public void discoveryUpdate(String upstream, String source, String result) {
    Counter.builder(DISCOVERY_UPDATES).tag(TAG_UPSTREAM, upstream).tag("source", source).tag(TAG_RESULT, result)
        .register(registry).increment();
  }

  /** The proxy listener failed to accept a connection. */
  public void acceptFailed() {
    acceptFailures.increment();
  }

  /** A client connection opened on the proxy listener. */
  public void clientConnectionOpened() {
    clientConnections.increment();
  }

  /** A client connection closed. */
  public void clientConnectionClosed() {
    clientConnections.decrement();
  }

  /**
   * The counters of one (upstream, endpoint), with its meters registered on first use. The same
   * instance is returned across reloads, so a rebuilt pool goes on counting in the same series.
   */
  public EndpointStats endpointStats(String upstream, String endpoint) {
    return byEndpoint.computeIfAbsent(key(upstream, endpoint), k -> register(upstream, endpoint)).stats();
  }

  /** Removes the meters of every (upstream, endpoint) not in {@code live} (keys from {@link #key}). */
  public void retainEndpoints(Set<String> live) {
    for (String key : List.copyOf(byEndpoint.keySet())) {
      if (!live.contains(key)) {
        Endpoint removed = byEndpoint.remove(key);
        removed.meters().forEach(registry::remove);
      }
    }
  }

  /** The key of an (upstream, endpoint) pair. */
  public static String key(String upstream, String endpoint) {
    return upstream + "|" + endpoint;
  }

  private Endpoint register(String upstream, String endpoint) {
    EndpointStats stats = new EndpointStats();
    Tags tags = Tags.of(TAG_UPSTREAM, upstream, TAG_ENDPOINT, endpoint);
    List<Meter> meters = new ArrayList<>();
    meters.add(Gauge.builder(UPSTREAM_CONNECTIONS, stats, EndpointStats::active).tags(tags).tag(TAG_STATE, "active")
        .register(registry));
    meters.add(Gauge.builder(UPSTREAM_CONNECTIONS, stats, EndpointStats::idle).tags(tags).tag(TAG_STATE, "idle")
        .register(registry));
    meters.add(Gauge.builder(UPSTREAM_PENDING_REQUESTS, stats, EndpointStats::pending).tags(tags).register(registry));
    meters.add(Gauge.builder(UPSTREAM_PENDING_LIMIT, stats, EndpointStats::pendingLimit).tags(tags).register(registry));
    meters.add(Gauge.builder(UPSTREAM_HEALTHY, stats, s -> s.healthy() ? 1 : 0).tags(tags).register(registry));
    meters.add(FunctionCounter.builder(UPSTREAM_CONNECTIONS_OPENED, stats, EndpointStats::opened).tags(tags)
        .register(registry));
    meters.add(FunctionCounter.builder(UPSTREAM_CONNECT_FAILURES, stats, EndpointStats::connectFailures).tags(tags)
        .register(registry));
    meters.add(FunctionCounter.builder(UPSTREAM_REQUESTS, stats, EndpointStats::requests).tags(tags).register(registry));
    meters.add(FunctionCounter.builder(UPSTREAM_RETRIES, stats, EndpointStats::retries).tags(tags).register(registry));
    meters.add(FunctionCounter.builder(UPSTREAM_RETRIES_REFUSED, stats, EndpointStats::retriesRefused).tags(tags)
        .register(registry));
    meters.add(FunctionCounter.builder(UPSTREAM_CONNECTS_PACED, stats, EndpointStats::connectsPaced).tags(tags)
        .register(registry));
    meters.add(Gauge.builder(UPSTREAM_CONNECT_RATE, stats, EndpointStats::connectRate).tags(tags).register(registry));
    meters.add(FunctionCounter.builder(UPSTREAM_WARMUP_CONNECTIONS, stats, EndpointStats::warmupConnections).tags(tags)
        .register(registry));
    meters.add(FunctionCounter.builder(UPSTREAM_TLS_HANDSHAKES, stats, EndpointStats::tlsHandshakes).tags(tags)
        .register(registry));
    meters.add(FunctionCounter.builder(UPSTREAM_TLS_HANDSHAKE_SECONDS, stats, EndpointStats::tlsHandshakeSeconds)
        .tags(tags).register(registry));
    meters.add(Gauge.builder(UPSTREAM_IDLE_TIMEOUT, stats, EndpointStats::idleTimeoutSeconds).tags(tags)
        .baseUnit("seconds").register(registry));
    meters.add(Gauge.builder(UPSTREAM_BACKEND_KEEPALIVE_TIMEOUT, stats,
            s -> s.backendKeepAliveTimeoutMillis() < 0 ? Double.NaN : s.backendKeepAliveTimeoutMillis() / 1000.0)
        .tags(tags).baseUnit("seconds").register(registry));
    meters.add(FunctionCounter.builder(UPSTREAM_BACKEND_CLOSES, stats, EndpointStats::idleClosesByBackend).tags(tags)
        .tag(TAG_WHEN, "idle").register(registry));
    meters.add(FunctionCounter.builder(UPSTREAM_BACKEND_CLOSES, stats, EndpointStats::reuseClosesByBackend).tags(tags)
        .tag(TAG_WHEN, "reuse").register(registry));
    for (CloseReason reason : CloseReason.values()) {
      meters.add(FunctionCounter.builder(UPSTREAM_CONNECTIONS_CLOSED, stats, s -> s.closed(reason))
          .tags(tags).tag(TAG_REASON, reason.label()).register(registry));
    }
    return new Endpoint(stats, meters);
  }

  /** The counters of one (upstream, endpoint) and the meters that publish them. */
  private record Endpoint(EndpointStats stats, List<Meter> meters) {}

  /** A reload was applied; the running config now has this version. */
  public void reloadApplied(int version) {
    reloadsApplied.increment();
    configVersion.set(version);
  }

  /** The config file could not be read (an I/O error, not an invalid config); the old one keeps serving. */
  public void reloadUnreadable() {
    reloadsUnreadable.increment();
  }

  /** A reload was refused (invalid config); the old one keeps serving. */
  public void reloadRejected() {
    reloadsRejected.increment();
  }

  /**
   * Per route, what its requests came to so far: {@code {count, codes: {"200": n}, buckets: [[le
   * seconds, cumulative count], ...]}} (the latency histogram summed over status codes), for the
   * live dashboard.
   */
  public JsonObject requestsByRoute() {
    JsonObject routes = new JsonObject();
    for (Timer timer : registry.find(REQUEST_DURATION).timers()) {
      JsonObject route = routes.getJsonObject(timer.getId().getTag(TAG_ROUTE));
      if (route == null) {
        route = new JsonObject().put("count", 0L).put("codes", new JsonObject()).put("buckets", new JsonArray());
        routes.put(timer.getId().getTag(TAG_ROUTE), route);
      }
      HistogramSnapshot snapshot = timer.takeSnapshot();
      route.put("count", route.getLong("count") + snapshot.count());
      JsonObject codes = route.getJsonObject("codes");
      codes.put(timer.getId().getTag(TAG_CODE), codes.getLong(timer.getId().getTag(TAG_CODE), 0L) + snapshot.count());
      JsonArray buckets = route.getJsonArray("buckets");
      CountAtBucket[] counts = snapshot.histogramCounts();
      for (int i = 0; i < counts.length; i++) {
        if (buckets.size() <= i) {
          buckets.add(new JsonArray().add(counts[i].bucket(TimeUnit.SECONDS)).add(0.0));
        }
        JsonArray bucket = buckets.getJsonArray(i);
        bucket.set(1, bucket.getDouble(1) + counts[i].count());
      }
    }
    return routes;
  }

  /** Counts one answered client request. {@code route} is a route name or {@link MetricNames#NO_ROUTE}. */
  public void recordRequest(String route, int status, long durationNanos) {
    AtomicReferenceArray<RequestMeters> byStatus = byRoute.computeIfAbsent(route, r -> new AtomicReferenceArray<>(600));
    int index = status >= 100 && status < 600 ? status : 0;
    RequestMeters meters = byStatus.get(index);
    if (meters == null) {
      meters = new RequestMeters(route, status);
      byStatus.set(index, meters); // a racing duplicate is harmless: the registry returns the same meters
    }
    meters.count.increment();
    meters.duration.record(durationNanos, TimeUnit.NANOSECONDS);
  }

  private final class RequestMeters {
    final Counter count;
    final Timer duration;

    RequestMeters(String route, int status) {
      Tags tags = Tags.of(TAG_ROUTE, route, TAG_CODE, Integer.toString(status));
      count = Counter.builder(REQUESTS).tags(tags).register(registry);
      duration = Timer.builder(REQUEST_DURATION).tags(tags).serviceLevelObjectives(DURATION_BUCKETS)
          .register(registry);
    }
  }
}
