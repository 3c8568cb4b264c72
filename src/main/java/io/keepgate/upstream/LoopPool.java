package io.keepgate.upstream;

import io.keepgate.config.PoolConfig;
import io.keepgate.internal.Loop;
import io.keepgate.internal.LoopTimers;
import io.keepgate.internal.Timeout;
import io.keepgate.internal.TimeoutList;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import io.netty.channel.Channel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The HTTP keep-alive connections of one event loop to one endpoint (HTTP/1.1 connections, or
 * HTTP/2 connections leased a stream at a time up to the backend's stream limit). Exchanges on the loop lease
 * from it without crossing threads; the endpoint's {@link ConnectionPermits} keep
 * {@code maxConnectionsPerEndpoint} exact for the node across all its loops.
 *
 * <p>A request takes the most recently released idle connection (LIFO keeps few connections warm;
 * {@link #acquireNow}); when none is idle it opens one if a permit is free, else it waits in a
 * bounded queue for at most {@code pendingTimeout} ({@link #acquireLater}). When requests wait here
 * and no permit is free, the loop is {@link Hunger hungry}: other loops with no request waiting
 * give up an idle connection (closed as {@code rebalanced}) so that one opens here, from a spare
 * one if this loop has none at all, even from their last one once a request here waited
 * {@link #STARVATION_DELAY}. An HTTP/2 connection in use takes further streams before an idle one
 * is touched, so a new connection opens only when the streams of the others are exhausted.
 * A request is never starved while idle capacity sits on another loop,
 * and connections do not move while every loop's own connections keep up.
 * Idle connections close after {@code idleTimeout}, ahead of the backend's
 * {@code Keep-Alive: timeout} or of the timeout learned from its closes ({@link KeepAliveLearning}),
 * after {@code maxLifetime} (minus up to 10 % jitter) or {@code maxRequestsPerConnection}; every
 * close is counted once, with its reason, when the socket is gone.
 *
 * <p>Every connect takes a token from the endpoint's {@link ConnectRate} first (when
 * {@code connectRate} is set). A pool refused one is <em>paced</em>: its waiters keep their place
 * and their pending timeout, and the loop's tick retries once the next token is due; a refusal for
 * the rate asks no other loop for a connection, since one opened there would need a token too. A
 * warm hand-off ({@link #warm}) opens connections ahead of any request, through the same path, and
 * leaves them idle.
 *
 * <p>Threading: confined to its loop (asserted at every entry point); {@link #poke},
 * {@link #requestDonation}, {@link #shedOverBudget}, {@link #ejected}, {@link #warm},
 * {@link #stopWarming} and {@link #close} may be called from any thread and hop to the loop. Gauges
 * are published with release stores for readers on other threads.
 */
public final class LoopPool implements LoopTimers.Sweeper, PoolGauges {
  /** How long a request waits for this loop's own connections before any other loop must give one up. */
  static final long STARVATION_DELAY = TimeUnit.MILLISECONDS.toNanos(250);

  /** How badly this loop needs a connection it has no permit for. */
  enum Hunger {
    /** No request waits for a permit. */
    NONE,
    /** Requests wait and the loop holds no connection: loops with a spare one (two or more) give one up. */
    EMPTY,
    /** A request waited {@link #STARVATION_DELAY}: any loop with an idle connection and no waiter gives it up. */
    STARVING
  }

  /** A request waiting for a connection. Called back on the pool's loop, at most once. */
  public interface Waiter {
    void onLeased(UpstreamConnection connection);

    void onPoolFailure(PoolFailure failure);
  }

  private final UpstreamEndpoint endpoint;
  private final PoolConfig config;
  private final Loop loop;
  private final Connector connector;
  private final TimeoutList pendingTimeouts;
  private final TimeoutList responseTimeouts;

  /** Connections with no lease out, most recently used first. */
  private final ArrayDeque<PooledConnection> idle = new ArrayDeque<>();
  /** HTTP/2 connections in use that take another stream. */
  private final ArrayDeque<Http2Connection> shared = new ArrayDeque<>();
  private final ArrayDeque<Pending> waiting = new ArrayDeque<>();
  /** Leases out: requests (HTTP/1.1) or streams (HTTP/2) in flight. */
  private int leased;
  /** Connections with at least one lease out. */
  private int busy;
  private int connecting;
  /** Permits (endpoint and budget) held by connections that are open, opening or closing. */
  private int held;
  private Hunger hunger = Hunger.NONE;
  /** A connect this pool wants waits for the endpoint's connect rate; the tick retries from {@link #pacedUntilNanos}. */
  private boolean paced;
  private long pacedUntilNanos;
  /** Connections a warm hand-off still wants opened here, and its connects under way. */
  private int warmWanted;
  private int warmConnecting;
  /** The warm hand-off told about each warm connect as it settles; null before any. */
  private Warmup.Progress warming;
  private boolean closed;
  /** Why the pool closed: connections that come back afterwards close for the same reason. */
  private CloseReason closedFor = CloseReason.SHUTDOWN;
  /** The earliest moment an idle connection may expire: sweeps before it are skipped. */
  private long nextExpiryNanos = Long.MAX_VALUE;
  private CompletableFuture<Void> emptied;

  private final AtomicInteger activeGauge = new AtomicInteger();
  private final AtomicInteger idleGauge = new AtomicInteger();
  private final AtomicInteger pendingGauge = new AtomicInteger();

  LoopPool(UpstreamEndpoint endpoint, Loop loop, Connector connector) {
    this.endpoint = endpoint;
    this.config = endpoint.config().pool();
    this.loop = loop;
    this.connector = connector;
    this.pendingTimeouts = loop.timers().list(config.pendingTimeout());
    this.responseTimeouts = loop.timers().list(endpoint.config().responseTimeout());
  }

  /** The loop's list for the upstream's {@code responseTimeoutMs}, for exchanges using this pool. */
  public TimeoutList responseTimeouts() {
    return responseTimeouts;
  }

  public UpstreamEndpoint endpoint() {
    return endpoint;
  }

  Loop loop() {
    return loop;
  }

  /** Leases a connection to {@code waiter}: at once when one is idle, later otherwise, or fails it. */
  public void acquire(Waiter waiter) {
    UpstreamConnection connection = acquireNow();
    if (connection != null) {
      waiter.onLeased(connection);
    } else {
      acquireLater(waiter);
    }
  }

  /** A connection outside the pool and its limits (a WebSocket tunnel), opened on this loop. */
  void connectDedicated(Consumer<UpstreamConnection> onConnected, Consumer<String> onFailed) {
    connector.connectDedicated(onConnected, onFailed);
  }

  /**
   * The fast path: a stream of an HTTP/2 connection in use, else the most recently released idle
   * connection that is still good, leased; else null.
   */
  UpstreamConnection acquireNow() {
    assert loop.inLoop() : "pool used off its event loop";
    if (closed || !endpoint.health().healthy()) {
      return null;
    }
    if (endpoint.budgetLapsed()) {
      retireIdleOverBudget(); // resumed after a freeze, or cut off: the others may hold our share now
    }
    long now = loop.now();
    Http2Connection inUse;
    while ((inUse = shared.peekFirst()) != null) {
      UpstreamConnection stream = mayTakeMore(inUse, now) ? leaseFrom(inUse) : null;
      if (stream != null) {
        publishGauges();
        return stream;
      }
      unshare(inUse);
    }
    PooledConnection connection;
    while ((connection = idle.pollFirst()) != null) {
      CloseReason expiry = expiry(connection, now);
      if (expiry == null && connection.channel().isActive()) {
        UpstreamConnection lease = leaseFrom(connection);
        if (lease != null) {
          publishGauges();
          return lease;
        }
        expiry = CloseReason.ERROR; // an HTTP/2 connection that cannot open a stream
      }
      connection.close(expiry != null ? expiry : CloseReason.UPSTREAM_CLOSED);
    }
    return null;
  }

  /** The slow path: queue the waiter, opening a connection for it if a permit is free. */
  private void acquireLater(Waiter waiter) {
    if (closed) {
      waiter.onPoolFailure(new PoolFailure(PoolFailure.Kind.CLOSED, "upstream pool is shutting down"));
      return;
    }
    if (!endpoint.health().healthy()) {
      waiter.onPoolFailure(endpoint.unhealthy());
      return;
    }
    boolean wantsConnection = connectsCover() < waiting.size() + 1;
    boolean opening = wantsConnection && openConnection();
    if (!opening && !endpoint.tryQueue()) {
      waiter.onPoolFailure(new PoolFailure(PoolFailure.Kind.PENDING_QUEUE_FULL,
          "pending queue full (" + config.maxPendingRequests() + " requests waiting)"));
      return;
    }
    long now = loop.now();
    Pending pending = new Pending(waiter, !opening, now);
    waiting.add(pending);
    pendingTimeouts.arm(pending.timeout, now);
    if (wantsConnection && !opening && owned() == 0 && !paced) {
      hunger(Hunger.EMPTY); // nothing here will ever free up: ask the other loops at once
    }
    publishGauges();
  }

  /** The waiter gave up (its client left): it leaves the queue and is never called back. */
  public void cancel(Waiter waiter) {
    assert loop.inLoop() : "pool used off its event loop";
    for (Iterator<Pending> it = waiting.iterator(); it.hasNext(); ) {
      Pending pending = it.next();
      if (pending.waiter == waiter) {
        it.remove();
        pending.leave();
        publishGauges();
        return;
      }
    }
  }

  /** The exchange completed cleanly: the connection may serve another request. */
  public void recycle(UpstreamConnection lease, int keepAliveTimeoutSeconds) {
    assert loop.inLoop() : "pool used off its event loop";
    if (!lease.leased()) {
      return; // it closed under the exchange: counted already
    }
    lease.bind(null);
    endpoint.health().onSuccess();
    settle(lease, keepAliveTimeoutSeconds);
    publishGauges();
  }

  /**
   * The lease must not be reused: an HTTP/1.1 connection closes, counted with this reason (its
   * framing is unknown now); an HTTP/2 stream is reset, and its connection carries on.
   */
  public void discard(UpstreamConnection lease, CloseReason reason) {
    assert loop.inLoop() : "pool used off its event loop";
    if (!lease.leased()) {
      return;
    }
    lease.bind(null);
    if (lease.carrier() == lease) {
      leaseEnded(lease);
    } else {
      settle(lease, -1); // first: the reset closes the stream's channel at once
    }
    lease.close(reason);
    publishGauges();
  }

  /** A leased stream's channel closed under its exchange (a reset, or its connection went). */
  void onStreamClosed(Http2Stream stream) {
    settle(stream, -1);
    publishGauges();
  }

  /** A lease is over: its connection takes the next request, goes idle, or retires. */
  private void settle(UpstreamConnection lease, int keepAliveTimeoutSeconds) {
    PooledConnection connection = lease.carrier();
    if (lease != connection) {
      lease.state = PooledConnection.State.CLOSED; // a stream is leased once
    }
    if (connection.state == PooledConnection.State.CLOSED) {
      return; // its close settled every lease
    }
    leaseEnded(connection);
    long now = loop.now();
    if (connection.inUse > 0) {
      share((Http2Connection) connection, now); // an HTTP/2 connection with a stream free again
    } else if (!connection.closing()) {
      CloseReason retire = retirement(connection, now, keepAliveTimeoutSeconds);
      if (retire != null) {
        connection.close(retire);
      } else {
        connection.state = PooledConnection.State.IDLE;
        connection.idleSinceNanos = now;
        if (!connection.channel().config().isAutoRead()) {
          connection.channel().config().setAutoRead(true); // an idle connection must see its EOF
        }
        idle.push(connection);
        nextExpiryNanos = Math.min(nextExpiryNanos, expiresAt(connection));
      }
    }
    dispatch();
  }

  private void leaseEnded(PooledConnection connection) {
    leased--;
    if (--connection.inUse == 0) {
      busy--;
      if (connection instanceof Http2Connection http2) {
        unshare(http2);
      }
    }
  }

  /** Why an idle connection must close now, or null if it may stay. */
  private CloseReason expiry(PooledConnection connection, long now) {
    if (now - connection.retireAtNanos >= 0) {
      return CloseReason.MAX_LIFETIME;
    }
    if (now - idleDeadline(connection) >= 0) {
      return CloseReason.IDLE_TIMEOUT;
    }
    return null;
  }

  private long expiresAt(PooledConnection connection) {
    return Math.min(connection.retireAtNanos, idleDeadline(connection));
  }

  /**
   * When an idle connection closes: before the timeout its backend announced, else after the endpoint's
   * idle timeout ({@code idleTimeoutMs}, or lower once the backend's own timeout is learned).
   */
  private long idleDeadline(PooledConnection connection) {
    if (connection.keepAliveDeadlineNanos != Long.MAX_VALUE) {
      return Math.min(connection.idleSinceNanos + config.idleTimeout().toNanos(), connection.keepAliveDeadlineNanos);
    }
    return connection.idleSinceNanos + endpoint.idleTimeoutNanos();
  }

  /** Why a connection coming back from an exchange must retire instead of idling, or null. */
  private CloseReason retirement(PooledConnection connection, long now, int keepAliveTimeoutSeconds) {
    if (closed) {
      return closedFor;
    }
    if (connection instanceof Http2Connection http2 && http2.goingAway()) {
      return CloseReason.GOAWAY;
    }
    if (endpoint.overBudget()) {
      return CloseReason.BUDGET; // this node holds more than its share: retire it now that it is idle
    }
    if (config.maxRequestsPerConnection() > 0 && connection.requestsServed >= config.maxRequestsPerConnection()) {
      return CloseReason.MAX_REQUESTS;
    }
    if (now - connection.retireAtNanos >= 0) {
      return CloseReason.MAX_LIFETIME;
    }
    connection.keepAliveDeadlineNanos = KeepAliveHeader.deadline(now, keepAliveTimeoutSeconds);
    if (connection.keepAliveDeadlineNanos - now <= 0) {
      return CloseReason.IDLE_TIMEOUT;
    }
    if (waiting.isEmpty() && endpoint.shouldDonate(this, owned())) {
      return CloseReason.REBALANCED; // requests starve on another loop that has no permit left
    }
    return null;
  }

  /** A lease of {@code connection} (itself, or a new HTTP/2 stream on it); null when it cannot open one. */
  private UpstreamConnection leaseFrom(PooledConnection connection) {
    UpstreamConnection lease = connection.newLease();
    if (lease == null) {
      return null;
    }
    if (connection.state == PooledConnection.State.IDLE) {
      connection.idleAgeAtLeaseNanos = loop.now() - connection.idleSinceNanos;
    }
    if (connection.inUse++ == 0) {
      busy++;
    }
    connection.state = PooledConnection.State.LEASED;
    connection.requestsServed++;
    leased++;
    endpoint.stats().requests.increment();
    if (connection instanceof Http2Connection http2) {
      share(http2, loop.now());
    }
    return lease;
  }

  /** Keeps an HTTP/2 connection in use on the shared list while it takes another stream, else off it. */
  private void share(Http2Connection connection, long now) {
    boolean more = mayTakeMore(connection, now);
    if (more && !connection.shared) {
      connection.shared = true;
      shared.add(connection);
    } else if (!more) {
      unshare(connection);
    }
  }

  private void unshare(Http2Connection connection) {
    if (connection.shared) {
      connection.shared = false;
      shared.remove(connection);
    }
  }

  /** Whether an HTTP/2 connection in use may take another stream: below its limits, not retiring. */
  private boolean mayTakeMore(Http2Connection connection, long now) {
    return connection.takesMoreLeases() && !closed && now - connection.retireAtNanos < 0
        && (config.maxRequestsPerConnection() == 0 || connection.requestsServed < config.maxRequestsPerConnection());
  }

  /** Requests the connects under way will serve: one each, or for HTTP/2 the streams a new connection is assumed to take. */
  private int connectsCover() {
    return endpoint.config().protocol().http2() ? connecting * Http2Connection.ASSUMED_STREAM_LIMIT : connecting;
  }

  /** Serves waiters from idle connections, opening new ones while permits allow. */
  private void dispatch() {
    while (!waiting.isEmpty()) {
      UpstreamConnection connection = acquireNow();
      if (connection != null) {
        Pending next = waiting.poll();
        next.leave();
        next.waiter.onLeased(connection);
      } else if (connectsCover() >= waiting.size() || closed || !openConnection()) {
        break;
      }
    }
    if (waiting.isEmpty()) {
      hunger(Hunger.NONE);
    }
    warmMore();
    if (connectsCover() >= waiting.size() && warmWanted == 0) {
      paced = false; // no connect this pool wants waits for the rate any more
    }
  }

  /**
   * Opens what a warm hand-off still wants here, as the rate and the limits allow. A connect may
   * complete within {@link #openConnection} (loopback), and its dispatch come back here: the counts
   * move before it starts.
   */
  private void warmMore() {
    while (warmWanted > 0) {
      warmWanted--;
      if (!openConnection(true)) {
        warmWanted++;
        if (!paced) {
          abandonWarming(); // a limit, not the rate: the rest will not open
        }
        return;
      }
    }
  }

  /**
   * Takes a token of the connect rate and the permits, and starts a connect; false when the rate
   * or a limit says no (the rate sets {@link #paced}). While another loop is hungry, a loop that
   * already holds connections leaves free permits to it: otherwise a permit given up for a hungry
   * loop could be taken by a busy one, which would then have one to give up, and connections would
   * keep moving.
   */
  private boolean openConnection() {
    return openConnection(false);
  }

  /** As {@link #openConnection()}; {@code ahead}: for a warm hand-off, counted as such before the connect starts. */
  private boolean openConnection(boolean ahead) {
    if (closed || !endpoint.health().healthy() || (owned() > 0 && endpoint.hungryElsewhere(this))) {
      paced = false; // what holds the connect back now is not the rate
      return false;
    }
    if (paced && loop.now() - pacedUntilNanos < 0) {
      return false; // refused already: the tick retries when the next token is due
    }
    ConnectRate rate = endpoint.connectRate();
    long wait = rate.tryTake();
    if (wait > 0) {
      paced = true;
      pacedUntilNanos = loop.now() + wait;
      return false;
    }
    if (!endpoint.takePermits(this)) {
      rate.refund(); // the permits poke this pool when one frees
      paced = false;
      return false;
    }
    if (paced) {
      endpoint.stats().connectsPaced.increment(); // it waited for a token
    }
    held++;
    connecting++;
    if (ahead) {
      warmConnecting++;
    }
    connector.connect(this);
    return true;
  }

  /** A connect this pool started succeeded. */
  void onConnected(PooledConnection connection) {
    assert loop.inLoop() : "pool used off its event loop";
    connecting--;
    endpoint.stats().opened.increment();
    if (warmConnecting > 0) {
      warmConnecting--;
      endpoint.stats().warmupConnections.increment();
      connection.openedAhead = true;
      warming.opened();
    }
    long lifetime = config.maxLifetime().toNanos();
    if (lifetime > 0) {
      connection.retireAtNanos = connection.openedAtNanos + lifetime
          - ThreadLocalRandom.current().nextLong(lifetime / 10 + 1);
    }
    if (closed) {
      connection.close(CloseReason.SHUTDOWN);
      return;
    }
    idle.push(connection); // the waiters take it (or its streams) from there
    nextExpiryNanos = Math.min(nextExpiryNanos, expiresAt(connection));
    dispatch();
    publishGauges();
  }

  /** A connect this pool started failed: one waiter gets the failure, the endpoint a strike. */
  void onConnectFailed(String reason) {
    assert loop.inLoop() : "pool used off its event loop";
    connecting--;
    releasePermits();
    endpoint.stats().connectFailures.increment();
    if (warmConnecting > 0) {
      warmConnecting--;
      warming.failed();
    }
    Pending next = waiting.poll();
    // the strike before the 502: a client that reads it and asks again on another loop must find
    // the verdict; the waiter is taken first, so an ejection reroutes only the others
    endpoint.health().onFailure("connect failed: " + reason);
    if (next != null) {
      next.leave();
      next.waiter.onPoolFailure(new PoolFailure(PoolFailure.Kind.CONNECT_FAILED, "connect to upstream failed: " + reason));
    }
    dispatch();
    publishGauges();
  }

  /** The socket of one of this pool's connections is gone, whoever closed it: counted once here. */
  void onClosed(PooledConnection connection) {
    observeBackendClose(connection);
    if (connection.state == PooledConnection.State.IDLE) {
      idle.remove(connection); // EOF on an idle socket drops it at once
    }
    if (connection.inUse > 0) { // closed under its exchanges, which are told
      leased -= connection.inUse;
      busy--;
      connection.inUse = 0;
    }
    if (connection instanceof Http2Connection http2) {
      unshare(http2);
    }
    connection.state = PooledConnection.State.CLOSED;
    CloseReason reason = connection.closeReason();
    endpoint.stats().countClosed(reason);
    if (reason == CloseReason.KEEPALIVE_DEAD) {
      endpoint.health().onFailure("TCP keepalive declared the peer dead");
    } else if (reason == CloseReason.PING_TIMEOUT) {
      endpoint.health().onFailure("HTTP/2 PING unanswered");
    }
    releasePermits();
    dispatch();
    publishGauges();
  }

  /**
   * What a backend close tells of the backend's keep-alive timeout: an idle connection it closed had
   * lived that long idle; a reused HTTP/1.1 connection it closed before any response byte (the race)
   * had been idle that long when it was leased. Connections whose backend announced its timeout tell
   * nothing more.
   */
  private void observeBackendClose(PooledConnection connection) {
    if (!connection.closedByBackend() || connection.keepAliveDeadlineNanos != Long.MAX_VALUE) {
      return;
    }
    long now = loop.now();
    if (connection.state == PooledConnection.State.IDLE) {
      endpoint.observeBackendClose(now, now - connection.idleSinceNanos, false);
    } else if (connection instanceof UpstreamConnection http1 && http1.carrier() == http1 && http1.leased()
        && http1.reused() && !http1.responseBytesArrived()) {
      endpoint.observeBackendClose(now, connection.idleAgeAtLeaseNanos, true);
    }
  }

  /** The endpoint's idle timeout changed (learned, here or in the cluster): the next sweep looks again. Any thread. */
  void idleTimeoutChanged() {
    loop.run(() -> nextExpiryNanos = loop.now());
  }

  private void releasePermits() {
    held--;
    endpoint.givePermits();
    if (closed && held == 0 && emptied != null) {
      emptied.complete(null);
    }
  }

  /**
   * Called by the loop's tick: closes idle connections that outlived their time, and asks the
   * other loops for a connection while requests here have waited too long.
   */
  @Override
  public void sweep(long now) {
    if (paced && now - pacedUntilNanos >= 0) {
      dispatch(); // a token is due: opens what the rate allows now, or sets the next retry
      publishGauges();
    }
    if (!waiting.isEmpty()) {
      checkHunger(now);
    }
    if (idle.isEmpty() || now - nextExpiryNanos < 0) {
      return;
    }
    long next = Long.MAX_VALUE;
    for (Iterator<PooledConnection> it = idle.iterator(); it.hasNext(); ) {
      PooledConnection connection = it.next();
      CloseReason expiry = expiry(connection, now);
      if (expiry != null) {
        it.remove();
        connection.close(expiry);
      } else {
        next = Math.min(next, expiresAt(connection));
      }
    }
    nextExpiryNanos = next;
    publishGauges();
  }

  private void checkHunger(long now) {
    if (hunger != Hunger.STARVING && now - waiting.peek().sinceNanos >= STARVATION_DELAY
        && connectsCover() < waiting.size() && !openConnection() && !paced) {
      hunger(Hunger.STARVING);
    } else if (hunger != Hunger.NONE) {
      endpoint.requestDonations(this, hunger); // asked before and nothing came yet: ask again
    }
  }

  /** Connections of this pool: in use, idle and being opened. */
  private int owned() {
    return busy + idle.size() + connecting;
  }

  /** The backend sent GOAWAY on {@code connection}: no new stream goes there; idle, it closes now. */
  void onGoAway(Http2Connection connection) {
    unshare(connection);
    if (connection.state == PooledConnection.State.IDLE) {
      idle.remove(connection);
      connection.close(CloseReason.GOAWAY);
    }
    publishGauges();
  }

  /** The backend changed its stream limit: a connection in use may take more streams now, or fewer. */
  void onStreamLimitChanged(Http2Connection connection) {
    if (connection.inUse > 0) {
      share(connection, loop.now());
      dispatch();
      publishGauges();
    }
  }

  /** A permit may have freed (a connection closed elsewhere, or a limit grew). Any thread. */
  void poke() {
    loop.run(() -> {
      dispatch();
      publishGauges();
    });
  }

  /** Another loop has requests waiting and no permit: give up an idle connection if this loop can spare one. Any thread. */
  void requestDonation(Hunger need) {
    loop.run(() -> {
      if (waiting.isEmpty() && !idle.isEmpty() && (need == Hunger.STARVING || owned() >= 2)) {
        idle.pollLast().close(CloseReason.REBALANCED);
        publishGauges();
      }
    });
  }

  /**
   * A warm hand-off: opens {@code count} connections ahead of any request (paced by the connect rate,
   * within the limits) and leaves them idle; each one that opens, fails or cannot open is told to
   * {@code progress}. Any thread.
   */
  void warm(int count, Warmup.Progress progress) {
    loop.run(() -> {
      if (closed) {
        progress.skipped(count);
        return;
      }
      warming = progress;
      warmWanted += count;
      dispatch();
      publishGauges();
    });
  }

  /** The warm hand-off is over (done or timed out): what it still wanted here is not opened. Any thread. */
  void stopWarming() {
    loop.run(this::abandonWarming);
  }

  private void abandonWarming() {
    if (warmWanted > 0) {
      int left = warmWanted;
      warmWanted = 0;
      warming.skipped(left);
    }
  }

  /** This node's share shrank: retire idle connections, least recently used first, until it fits. Any thread. */
  void shedOverBudget() {
    loop.run(this::retireIdleOverBudget);
  }

  private void retireIdleOverBudget() {
    boolean retired = false;
    while (endpoint.overBudget() && !idle.isEmpty()) {
      idle.pollLast().close(CloseReason.BUDGET);
      retired = true;
    }
    if (retired) {
      publishGauges();
    }
  }

  /** The endpoint was ejected: idle connections close, waiters are told (they try another endpoint). Any thread. */
  void ejected() {
    loop.run(() -> {
      abandonWarming();
      while (!idle.isEmpty()) {
        idle.pop().close(CloseReason.EJECTED);
      }
      failWaiting(endpoint.unhealthy());
    });
  }

  /**
   * Closes idle connections now and leased ones when their exchange ends; waiters are told the
   * pool closed. Completes when every connection of the pool is gone. Any thread.
   */
  CompletableFuture<Void> close(CloseReason reason) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    loop.run(() -> {
      closed = true;
      closedFor = reason;
      emptied = done;
      loop.timers().removeSweeper(this);
      abandonWarming();
      while (!idle.isEmpty()) {
        idle.pop().close(reason);
      }
      failWaiting(new PoolFailure(PoolFailure.Kind.CLOSED, "upstream pool is shutting down"));
      if (held == 0) {
        done.complete(null);
      }
    });
    return done;
  }

  private void failWaiting(PoolFailure failure) {
    Pending pending;
    while ((pending = waiting.poll()) != null) {
      pending.leave();
      pending.waiter.onPoolFailure(failure);
    }
    hunger(Hunger.NONE);
    publishGauges();
  }

  private void hunger(Hunger now) {
    if (hunger != now) {
      endpoint.hungerChanged(this, hunger, now);
      hunger = now;
    }
  }

  CompletableFuture<List<Channel>> idleChannelsForTest() {
    CompletableFuture<List<Channel>> channels = new CompletableFuture<>();
    loop.run(() -> channels.complete(idle.stream().map(PooledConnection::channel).toList()));
    return channels;
  }

  Hunger hunger() {
    return hunger;
  }

  private void publishGauges() {
    activeGauge.lazySet(leased);
    idleGauge.lazySet(idle.size());
    pendingGauge.lazySet(waiting.size());
  }

  @Override
  public int active() {
    return activeGauge.get();
  }

  @Override
  public int idle() {
    return idleGauge.get();
  }

  @Override
  public int pending() {
    return pendingGauge.get();
  }

  /** A waiter in the queue, with its pending timeout. */
  private final class Pending implements Timeout.Expiry {
    final Waiter waiter;
    /** Whether it counts against {@code maxPendingRequests} (it did not start a connect of its own). */
    final boolean queued;
    final Timeout timeout = new Timeout(this);

    final long sinceNanos;

    Pending(Waiter waiter, boolean queued, long sinceNanos) {
      this.waiter = waiter;
      this.queued = queued;
      this.sinceNanos = sinceNanos;
    }

    void leave() {
      timeout.cancel();
      if (queued) {
        endpoint.leaveQueue();
      }
    }

    /** Waited {@code pendingTimeout}. */
    @Override
    public void expired() {
      if (waiting.remove(this)) {
        if (queued) {
          endpoint.leaveQueue();
        }
        if (waiting.isEmpty()) {
          hunger(Hunger.NONE);
        }
        publishGauges();
        waiter.onPoolFailure(new PoolFailure(PoolFailure.Kind.PENDING_TIMEOUT,
            "no upstream connection within " + config.pendingTimeout().toMillis() + " ms"));
      }
    }
  }
}
