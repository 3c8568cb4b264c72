package io.keepgate.upstream;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import java.util.function.DoubleSupplier;

/**
 * The counters and gauges of one (upstream, endpoint), as metrics and the admin API show them. One
 * instance serves every pool of the endpoint (one per event loop) and outlives a reload that
 * rebuilds them, so the series go on counting across it.
 *
 * <p>Threading: counters are {@link LongAdder}s written from every loop; gauges are summed, at read
 * time, over the attached pools' own gauges. Readable from any thread; nothing here drives a pool
 * decision but {@link #active} and {@link #pending} for least-requests balancing.
 */
public final class EndpointStats {
  final LongAdder opened = new LongAdder();
  final LongAdder connectFailures = new LongAdder();
  final LongAdder requests = new LongAdder();
  final LongAdder retries = new LongAdder();
  private final LongAdder retriesRefused = new LongAdder();
  final LongAdder tlsHandshakes = new LongAdder();
  final LongAdder tlsHandshakeNanos = new LongAdder();
  final LongAdder tlsHandshakeFailures = new LongAdder();
  private final LongAdder idleClosesByBackend = new LongAdder();
  private final LongAdder reuseClosesByBackend = new LongAdder();
  final LongAdder connectsPaced = new LongAdder();
  final LongAdder warmupConnections = new LongAdder();
  private final EnumMap<CloseReason, LongAdder> closed = new EnumMap<>(CloseReason.class);
  /** The pools of this endpoint (one per event loop, old and new across a reload): the gauges sum them. */
  private final CopyOnWriteArrayList<PoolGauges> pools = new CopyOnWriteArrayList<>();

  /** The health of the endpoint's current incarnation (a reload builds a new one): the healthy gauge reads it. */
  private volatile BooleanSupplier healthy = () -> true;
  private volatile int pendingLimit;
  /** What the endpoint's current incarnation knows of the backend's keep-alive timeout. */
  private volatile KeepAliveLearning keepAlive;
  /** This node's share of the endpoint's connect rate, read live from its current incarnation; 0 = unpaced. */
  private volatile DoubleSupplier connectRate = () -> 0;
  private volatile int warmupTarget;

  public EndpointStats() {
    for (CloseReason reason : CloseReason.values()) {
      closed.put(reason, new LongAdder());
    }
  }

  void healthFrom(BooleanSupplier source) {
    healthy = source;
  }

  /** Whether the endpoint takes traffic (not ejected). */
  public boolean healthy() {
    return healthy.getAsBoolean();
  }

  void keepAliveFrom(KeepAliveLearning source) {
    keepAlive = source;
  }

  /** The idle timeout the pools apply now, in seconds: {@code idleTimeoutMs}, or less once the backend's own timeout is learned. */
  public double idleTimeoutSeconds() {
    KeepAliveLearning current = keepAlive;
    return current == null ? Double.NaN : current.idleTimeoutNanos() / 1e9;
  }

  /** The backend's HTTP keep-alive timeout as learned, in milliseconds; -1 while unknown. */
  public long backendKeepAliveTimeoutMillis() {
    KeepAliveLearning current = keepAlive;
    return current == null ? -1 : current.backendTimeoutMillis();
  }

  /** Where the idle timeout comes from: {@code configured}, {@code learned} on this node, or the {@code cluster}. */
  public String idleTimeoutSource() {
    KeepAliveLearning current = keepAlive;
    return current == null ? "configured" : current.source();
  }

  void countBackendClose(boolean onReuse) {
    (onReuse ? reuseClosesByBackend : idleClosesByBackend).increment();
  }

  /** Idle pooled connections the backend closed: each tells its keep-alive timeout. */
  public long idleClosesByBackend() {
    return idleClosesByBackend.sum();
  }

  /** Reused connections the backend closed before any response byte (the keep-alive race). */
  public long reuseClosesByBackend() {
    return reuseClosesByBackend.sum();
  }

  void attach(PoolGauges pool) {
    pools.add(pool);
  }

  void detach(PoolGauges pool) {
    pools.remove(pool);
  }

  /** A request is sent again after this endpoint closed its reused connection (the keep-alive race). */
  public void countRetry() {
    retries.increment();
  }

  /** A request this endpoint failed was not sent again: the upstream's retry budget was spent. */
  public void countRetryRefused() {
    retriesRefused.increment();
  }

  /** Requests this endpoint failed that were not retried because the retry budget was spent. */
  public long retriesRefused() {
    return retriesRefused.sum();
  }

  void countClosed(CloseReason reason) {
    closed.get(reason).increment();
  }

  /** Connections leased to a request right now. */
  public int active() {
    int sum = 0;
    for (PoolGauges pool : pools) {
      sum += pool.active();
    }
    return sum;
  }

  /** Connections in the pool waiting for a request. */
  public int idle() {
    int sum = 0;
    for (PoolGauges pool : pools) {
      sum += pool.idle();
    }
    return sum;
  }

  /** {@code maxPendingRequests} of the endpoint's running config (it may change on a reload). */
  public int pendingLimit() {
    return pendingLimit;
  }

  void pendingLimit(int limit) {
    pendingLimit = limit;
  }

  /** Requests waiting for a connection. */
  public int pending() {
    int sum = 0;
    for (PoolGauges pool : pools) {
      sum += pool.pending();
    }
    return sum;
  }

  /** Connections opened since start. */
  public long opened() {
    return opened.sum();
  }

  /** Connection attempts that failed since start. */
  public long connectFailures() {
    return connectFailures.sum();
  }

  /** Requests sent to this endpoint since start (one per lease). */
  public long requests() {
    return requests.sum();
  }

  /** Requests retried on another connection after this endpoint closed a reused one (the keep-alive race). */
  public long retries() {
    return retries.sum();
  }

  /** TLS handshakes completed with this endpoint since start: each one a pooled connection did not save. */
  public long tlsHandshakes() {
    return tlsHandshakes.sum();
  }

  /** TLS handshakes with this endpoint that failed (also counted as connect failures). */
  public long tlsHandshakeFailures() {
    return tlsHandshakeFailures.sum();
  }

  /** Time spent in those handshakes, in seconds. */
  public double tlsHandshakeSeconds() {
    return tlsHandshakeNanos.sum() / 1e9;
  }

  void connectRateFrom(DoubleSupplier source) {
    connectRate = source;
  }

  /** This node's share of the endpoint's cluster-wide connect rate, per second; 0 when connects are not paced. */
  public double connectRate() {
    return connectRate.getAsDouble();
  }

  /** Connections opened after waiting for the connect rate (their pool had been refused a connect). */
  public long connectsPaced() {
    return connectsPaced.sum();
  }

  /** Connections opened by a warm hand-off before this node turned ready. */
  public long warmupConnections() {
    return warmupConnections.sum();
  }

  /** How many connections the warm hand-off set out to open to this endpoint; 0 when none ran. */
  public int warmupTarget() {
    return warmupTarget;
  }

  void warmupTarget(int target) {
    warmupTarget = target;
  }

  /** Connections closed with this reason since start. */
  public long closed(CloseReason reason) {
    return closed.get(reason).sum();
  }

  /** Connections closed since start, by reason. */
  public Map<CloseReason, Long> closedByReason() {
    EnumMap<CloseReason, Long> copy = new EnumMap<>(CloseReason.class);
    closed.forEach((reason, count) -> copy.put(reason, count.sum()));
    return copy;
  }
}
