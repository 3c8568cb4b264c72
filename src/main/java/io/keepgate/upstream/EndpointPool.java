package io.keepgate.upstream;

import io.keepgate.cluster.ClusterState;
import io.keepgate.config.Endpoint;
import io.keepgate.config.HealthCheckConfig;
import io.keepgate.config.PoolConfig;
import io.keepgate.config.TcpKeepAliveConfig;
import io.keepgate.config.UpstreamConfig;
import io.keepgate.health.HealthChecker;
import io.keepgate.health.HealthState;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientConnection;
import io.vertx.core.http.HttpConnectOptions;
import io.vertx.core.internal.ContextInternal;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP keep-alive connections of this node to one endpoint.
 *
 * <p>A request takes the most recently released idle connection (LIFO keeps few connections warm);
 * opens a new one only when none is idle and the pool is below {@code maxConnectionsPerEndpoint};
 * otherwise it waits in a bounded queue for at most {@code pendingTimeout}. Idle connections close
 * after {@code idleTimeout}, or before the backend's own {@code Keep-Alive: timeout}; connections
 * retire after {@code maxLifetime} (minus up to 10 % jitter) or {@code maxRequestsPerConnection}.
 *
 * <p>It also keeps the endpoint's health: connect failures, resets, timeouts and dead peers count
 * against it; {@code unhealthyThreshold} in a row eject it (idle connections closed, waiters
 * failed); active probes readmit it. Verdicts are shared with the cluster: a peer's ejection is
 * adopted here, and only the node owning the endpoint's partition probes it. New connections
 * also need a slot of the upstream's {@link UpstreamBudget} (this node's share of
 * {@code maxConnectionsTotal}).
 *
 * <p>Threading: all state is confined to one home event loop ({@link #home}), so the limit holds
 * for the whole node whatever the number of event loops, with no locks. Entry points called from
 * other loops hop to the home loop; futures complete on the caller's context. Connections are
 * opened from the home loop, so their socket I/O runs there, while a request's own handlers run on
 * the loop of the client connection that sent it (Vert.x dispatches between the two).
 */
public final class EndpointPool {
  private static final Logger log = LoggerFactory.getLogger(EndpointPool.class);

  private final String upstreamName;
  private final Endpoint endpoint;
  private final PoolConfig config;
  private final TcpKeepAliveConfig tcpKeepAlive;
  private final HealthCheckConfig healthCheck;
  private final HealthState health;
  private final HealthChecker checker;
  private final HttpClientAgent client;
  private final UpstreamBudget budget;
  private final ClusterState cluster;
  private final Context home;
  private final LongSupplier nanoClock;
  private final EndpointStats stats = new EndpointStats();

  private final ArrayDeque<PooledConnection> idle = new ArrayDeque<>();
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
  private final List<PooledConnection> leased = new ArrayList<>();
  private int connecting;
  private boolean closed;
  private long sweepTimer = -1;
  private long probeTimer = -1;

  EndpointPool(UpstreamConfig upstream, Endpoint endpoint, HttpClientAgent client, UpstreamBudget budget,
      ClusterState cluster, Context home, LongSupplier nanoClock) {
    this.upstreamName = upstream.name();
    this.endpoint = endpoint;
    this.config = upstream.pool();
    this.tcpKeepAlive = upstream.tcpKeepAlive();
    this.healthCheck = upstream.healthCheck();
    this.health = new HealthState(healthCheck);
    this.checker = HealthChecker.of(healthCheck, client);
    this.client = client;
    this.budget = budget;
    this.cluster = cluster;
    this.home = home;
    this.nanoClock = nanoClock;
    onHome(() -> {
      startSweeper();
      if (healthCheck.activeProbesEnabled()) {
        scheduleProbe();
      }
    });
  }

  public Endpoint endpoint() {
    return endpoint;
  }

  public String upstreamName() {
    return upstreamName;
  }

  public EndpointStats stats() {
    return stats;
  }

  /** Requests in flight or waiting on this endpoint, for least-requests balancing. Any thread. */
  int load() {
    return stats.active.get() + stats.pending.get();
  }

  /** A connection for one request. Completes on the caller's context; fails with {@link PoolFailure}. */
  public Future<Lease> acquire() {
    Promise<Lease> promise = ((ContextInternal) Vertx.currentContext()).promise();
    onHome(() -> acquireOnHome(promise));
    return promise.future();
  }

  /**
   * A connection of its own, outside the pool and its limits, for a tunnel that never returns to
   * the pool (a WebSocket upgrade). Opened on the caller's event loop, with TCP keepalive applied.
   */
  public Future<HttpClientConnection> connectDedicated() {
    return client.connect(new HttpConnectOptions().setHost(endpoint.host()).setPort(endpoint.port()))
        .onSuccess(this::applyTcpKeepAlive);
  }

  /** Closes idle connections now, the leased ones when their exchange ends; fails every waiter. */
  public Future<Void> close() {
    Promise<Void> done = Promise.promise();
    onHome(() -> {
      closed = true;
      home.owner().cancelTimer(sweepTimer);
      home.owner().cancelTimer(probeTimer);
      while (!waiters.isEmpty()) {
        waiters.poll().fail(new PoolFailure(PoolFailure.Kind.CLOSED, "upstream pool is shutting down"));
      }
      while (!idle.isEmpty()) {
        closeConnection(idle.pop(), CloseReason.SHUTDOWN);
      }
      publishGauges();
      done.complete();
    });
    return done.future();
  }

  /** Every live connection (idle and leased), read on the home loop; for tests and diagnostics. */
  public Future<List<HttpClientConnection>> connectionsForTest() {
    Promise<List<HttpClientConnection>> promise = Promise.promise();
    onHome(() -> {
      List<HttpClientConnection> all = new ArrayList<>();
      idle.forEach(c -> all.add(c.http));
      leased.forEach(c -> all.add(c.http));
      promise.complete(all);
    });
    return promise.future();
  }

  private void acquireOnHome(Promise<Lease> promise) {
    assert Vertx.currentContext() == home : "pool state touched off its home event loop";
    if (closed) {
      promise.fail(new PoolFailure(PoolFailure.Kind.CLOSED, "upstream pool is shutting down"));
      return;
    }
    if (!health.healthy()) {
      promise.fail(unhealthy());
      return;
    }
    boolean mustWait = idle.isEmpty() && total() >= config.maxConnectionsPerEndpoint();
    // waiters served by a connection being opened are not queued: they do not count against the queue
    if (mustWait && Math.max(0, waiters.size() - connecting) >= config.maxPendingRequests()) {
      promise.fail(new PoolFailure(PoolFailure.Kind.PENDING_QUEUE_FULL,
          "pending queue full (" + config.maxPendingRequests() + " requests waiting)"));
      return;
    }
    Waiter waiter = new Waiter(promise);
    waiters.add(waiter);
    dispatch();
    if (!waiter.done) {
      waiter.timer = home.owner().setTimer(config.pendingTimeout().toMillis(), id -> onPendingTimeout(waiter));
    }
    publishGauges();
  }

  /** Serves waiters from idle connections, opening new ones while below the limit. */
  private void dispatch() {
    assert Vertx.currentContext() == home : "pool state touched off its home event loop";
    while (!waiters.isEmpty()) {
      PooledConnection connection = pollIdle();
      if (connection != null) {
        lease(connection, waiters.poll());
      } else if (connecting < waiters.size() && total() < config.maxConnectionsPerEndpoint() && !closed
          && budget.tryReserve(this)) {
        connect();
      } else {
        break;
      }
    }
  }

  /** The most recently released idle connection that is still valid; expired ones are closed. */
  private PooledConnection pollIdle() {
    long now = nanoClock.getAsLong();
    long idleTimeoutNanos = config.idleTimeout().toNanos();
    while (!idle.isEmpty()) {
      PooledConnection connection = idle.pop();
      CloseReason expiry = connection.expiry(now, idleTimeoutNanos);
      if (expiry == null) {
        return connection;
      }
      closeConnection(connection, expiry);
    }
    return null;
  }

  private void lease(PooledConnection connection, Waiter waiter) {
    boolean reused = connection.requestsServed > 0;
    if (connection.keepAliveTimer >= 0) {
      home.owner().cancelTimer(connection.keepAliveTimer);
      connection.keepAliveTimer = -1;
    }
    connection.state = PooledConnection.State.LEASED;
    connection.requestsServed++;
    leased.add(connection);
    stats.requests.increment();
    waiter.complete(new Lease(this, connection, reused));
  }

  private void connect() {
    connecting++;
    HttpConnectOptions options = new HttpConnectOptions()
        .setHost(endpoint.host())
        .setPort(endpoint.port());
    client.connect(options).onComplete(ar -> {
      connecting--;
      if (ar.succeeded()) {
        onConnected(ar.result());
      } else {
        stats.connectFailures.increment();
        budget.release();
        Waiter waiter = waiters.poll();
        if (waiter != null) {
          waiter.fail(new PoolFailure(PoolFailure.Kind.CONNECT_FAILED, connectFailureMessage(ar.cause())));
        }
        recordFailure("connect failed: " + ar.cause().getMessage());
      }
      dispatch();
      publishGauges();
    });
  }

  private void onConnected(HttpClientConnection http) {
    long now = nanoClock.getAsLong();
    PooledConnection connection = new PooledConnection(http, now, retireAt(now));
    stats.opened.increment();
    http.exceptionHandler(error -> connection.lastError = error);
    http.closeHandler(v -> onClosed(connection));
    applyTcpKeepAlive(http);
    if (closed) {
      closeConnection(connection, CloseReason.SHUTDOWN);
    } else {
      idle.push(connection);
    }
  }

  private void applyTcpKeepAlive(HttpClientConnection http) {
    try {
      TcpKeepAlive.apply(http, tcpKeepAlive);
    } catch (RuntimeException e) {
      log.warn("upstream={} endpoint={} could not set TCP keepalive timers: {}", upstreamName, endpoint, e.toString());
    }
  }

  /** Returns a connection after an exchange; {@code reason} non-null closes it. Any thread. */
  void release(PooledConnection connection, CloseReason reason, int keepAliveTimeoutSeconds) {
    onHome(() -> {
      leased.remove(connection);
      if (connection.state == PooledConnection.State.CLOSED) {
        // the socket closed during the exchange: counted then if its reason was known, else now
        countDeferredClose(connection, reason != null ? reason : CloseReason.UPSTREAM_CLOSED);
      } else if (reason != null) {
        closeConnection(connection, reason);
      } else if (closed) {
        closeConnection(connection, CloseReason.SHUTDOWN);
      } else {
        health.onTrafficSuccess();
        recycle(connection, keepAliveTimeoutSeconds);
      }
      dispatch();
      publishGauges();
    });
  }

  /** Puts back a connection that carried no request, keeping its idle clock and keep-alive deadline. */
  void returnUnused(PooledConnection connection) {
    onHome(() -> {
      leased.remove(connection);
      connection.requestsServed--;
      stats.requests.decrement();
      if (connection.state == PooledConnection.State.LEASED) {
        connection.state = PooledConnection.State.IDLE;
        idle.push(connection);
        armKeepAliveTimer(connection, nanoClock.getAsLong());
      } else {
        countDeferredClose(connection, CloseReason.UPSTREAM_CLOSED);
      }
      dispatch();
      publishGauges();
    });
  }

  private void recycle(PooledConnection connection, int keepAliveTimeoutSeconds) {
    long now = nanoClock.getAsLong();
    if (budget.over()) {
      closeConnection(connection, CloseReason.BUDGET); // over this node's share: retire it now it is idle
      return;
    }
    if (config.maxRequestsPerConnection() > 0 && connection.requestsServed >= config.maxRequestsPerConnection()) {
      closeConnection(connection, CloseReason.MAX_REQUESTS);
      return;
    }
    if (now >= connection.retireAtNanos) {
      closeConnection(connection, CloseReason.MAX_LIFETIME);
      return;
    }
    connection.keepAliveDeadlineNanos = keepAliveDeadline(now, keepAliveTimeoutSeconds);
    if (connection.keepAliveDeadlineNanos <= now) {
      closeConnection(connection, CloseReason.IDLE_TIMEOUT);
      return;
    }
    connection.state = PooledConnection.State.IDLE;
    connection.idleSinceNanos = now;
    idle.push(connection);
    armKeepAliveTimer(connection, now);
  }

  /**
   * Closes an idle connection right at its keep-alive deadline: the sweeper's period (up to 250 ms)
   * would eat the safety margin and let the backend's {@code Keep-Alive: timeout} pass first.
   */
  private void armKeepAliveTimer(PooledConnection connection, long now) {
    if (connection.keepAliveDeadlineNanos == Long.MAX_VALUE || connection.keepAliveTimer >= 0) {
      return;
    }
    long delayMillis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(connection.keepAliveDeadlineNanos - now) + 1);
    connection.keepAliveTimer = home.owner().setTimer(delayMillis, id -> {
      connection.keepAliveTimer = -1;
      if (connection.state == PooledConnection.State.IDLE && idle.remove(connection)) {
        closeConnection(connection, CloseReason.IDLE_TIMEOUT);
        publishGauges();
      }
    });
  }

  /**
   * When to close a connection whose backend announced {@code Keep-Alive: timeout=N}: a safety
   * margin before N seconds (a quarter of it, between 250 ms and 1 s), so keepgate closes first
   * and never sends a request into the backend's close.
   */
  static long keepAliveDeadline(long nowNanos, int timeoutSeconds) {
    if (timeoutSeconds < 0) {
      return Long.MAX_VALUE;
    }
    long timeoutMillis = timeoutSeconds * 1000L;
    long marginMillis = Math.max(250, Math.min(1000, timeoutMillis / 4));
    return nowNanos + TimeUnit.MILLISECONDS.toNanos(timeoutMillis - marginMillis);
  }

  private void closeConnection(PooledConnection connection, CloseReason reason) {
    if (connection.closeReason == null) {
      connection.closeReason = reason;
    }
    connection.http.close();
  }

  /** The socket is gone, whoever closed it: count it once, with the reason. */
  private void onClosed(PooledConnection connection) {
    PooledConnection.State previous = connection.state;
    connection.state = PooledConnection.State.CLOSED;
    budget.release();
    if (previous == PooledConnection.State.IDLE) {
      idle.remove(connection); // EOF on an idle socket drops it at once, not on the next request
    }
    CloseReason reason = connection.closeReason != null ? connection.closeReason : connection.reasonForUnrequestedClose();
    if (previous == PooledConnection.State.LEASED && connection.closeReason == null
        && connection.lastError == null) {
      // Vert.x itself closes a leased connection on a response timeout or a reset; only the
      // exchange knows why, and its release may arrive after this: count it then
      connection.closeUncounted = true;
    } else {
      stats.countClosed(reason);
    }
    if (reason == CloseReason.KEEPALIVE_DEAD) {
      recordFailure("TCP keepalive declared the peer dead");
    }
    if (reason != CloseReason.IDLE_TIMEOUT && reason != CloseReason.SHUTDOWN && reason != CloseReason.MAX_REQUESTS
        && reason != CloseReason.MAX_LIFETIME && log.isDebugEnabled()) {
      log.debug("upstream={} endpoint={} connection closed reason={} error={}", upstreamName, endpoint,
          reason.label(), connection.lastError);
    }
    dispatch();
    publishGauges();
  }

  private void countDeferredClose(PooledConnection connection, CloseReason reason) {
    if (connection.closeUncounted) {
      connection.closeUncounted = false;
      stats.countClosed(reason);
    }
  }

  private void onPendingTimeout(Waiter waiter) {
    if (waiters.remove(waiter)) {
      waiter.fail(new PoolFailure(PoolFailure.Kind.PENDING_TIMEOUT,
          "no upstream connection within " + config.pendingTimeout().toMillis() + " ms"));
      publishGauges();
    }
  }

  /** A budget slot freed up (another endpoint's connection closed, or the share grew). Any thread. */
  void poke() {
    onHome(() -> {
      dispatch();
      publishGauges();
    });
  }

  /** The node's share shrank: retire idle connections, least recently used first, until it fits. Any thread. */
  void shedOverBudget() {
    onHome(() -> {
      while (budget.over() && !idle.isEmpty()) {
        closeConnection(idle.pollLast(), CloseReason.BUDGET);
      }
      publishGauges();
    });
  }

  /** A verdict published by another node (or this one, echoed). Any thread. */
  public void adoptClusterVerdict(boolean healthy) {
    onHome(() -> {
      HealthState.Transition transition = health.adopt(healthy);
      if (transition == HealthState.Transition.EJECTED) {
        log.warn("upstream={} endpoint={} ejected by the cluster verdict", upstreamName, endpoint);
        ejectHere();
      } else if (transition == HealthState.Transition.READMITTED) {
        stats.healthy = true;
        log.info("upstream={} endpoint={} readmitted by the cluster verdict", upstreamName, endpoint);
      }
    });
  }

  /** A request is retried after this endpoint closed its reused connection before any response byte. Any thread. */
  public void countRetry() {
    stats.retries.increment();
  }

  /** A request failed at this endpoint before any response byte (reset, timeout). Any thread. */
  public void reportFailure(String what) {
    onHome(() -> recordFailure(what));
  }

  private void recordFailure(String what) {
    if (health.onFailure() == HealthState.Transition.EJECTED) {
      log.warn("upstream={} endpoint={} ejected after {} consecutive failures; last: {}", upstreamName, endpoint,
          healthCheck.unhealthyThreshold(), what);
      ejectHere();
      cluster.publishHealth(upstreamName, endpoint.toString(), false);
    }
  }

  /** Out of rotation: idle connections closed, waiters failed, probes until it proves itself again. */
  private void ejectHere() {
    stats.healthy = false;
    while (!idle.isEmpty()) {
      closeConnection(idle.pop(), CloseReason.EJECTED);
    }
    while (!waiters.isEmpty()) {
      waiters.poll().fail(unhealthy());
    }
    publishGauges();
    if (!healthCheck.activeProbesEnabled()) {
      scheduleProbe(); // no configured probe: a TCP probe readmits it once it accepts connections
    }
  }

  private PoolFailure unhealthy() {
    return new PoolFailure(PoolFailure.Kind.UNHEALTHY, "endpoint " + endpoint + " is unhealthy");
  }

  /** The next probe, {@code intervalMs} plus or minus 10 % so probes of many endpoints spread out. */
  private void scheduleProbe() {
    long interval = healthCheck.interval().toMillis();
    long jitter = interval / 10;
    long delay = Math.max(1, interval - jitter + ThreadLocalRandom.current().nextLong(2 * jitter + 1));
    probeTimer = home.owner().setTimer(delay, id -> probe());
  }

  private void probe() {
    if (closed || (health.healthy() && !healthCheck.activeProbesEnabled())) {
      return;
    }
    if (!cluster.ownsProbe(upstreamName, endpoint.toString())) {
      scheduleProbe(); // another node probes this endpoint and publishes its verdict
      return;
    }
    checker.check(endpoint).onComplete(ar -> {
      if (closed) {
        return;
      }
      if (ar.succeeded() && ar.result()) {
        if (health.onProbeSuccess() == HealthState.Transition.READMITTED) {
          stats.healthy = true;
          log.info("upstream={} endpoint={} readmitted after {} successful probes", upstreamName, endpoint,
              healthCheck.healthyThreshold());
          cluster.publishHealth(upstreamName, endpoint.toString(), true);
        }
      } else {
        recordFailure("health probe failed: " + (ar.failed() ? ar.cause().getMessage() : "unhealthy status"));
      }
      scheduleProbe();
    });
  }

  private void startSweeper() {
    long period = Math.max(10, Math.min(250, config.idleTimeout().toMillis() / 4));
    sweepTimer = home.owner().setPeriodic(period, id -> sweep());
  }

  /** Closes idle connections that outlived idleTimeout, the backend's keep-alive timeout, or maxLifetime. */
  private void sweep() {
    if (idle.isEmpty()) {
      return;
    }
    long now = nanoClock.getAsLong();
    long idleTimeoutNanos = config.idleTimeout().toNanos();
    for (PooledConnection connection : new ArrayList<>(idle)) {
      CloseReason expiry = connection.expiry(now, idleTimeoutNanos);
      if (expiry != null) {
        idle.remove(connection);
        closeConnection(connection, expiry);
      }
    }
    publishGauges();
  }

  private long retireAt(long now) {
    long lifetime = config.maxLifetime().toNanos();
    if (lifetime == 0) {
      return Long.MAX_VALUE;
    }
    long jitter = ThreadLocalRandom.current().nextLong(lifetime / 10 + 1);
    return now + lifetime - jitter;
  }

  /** Connections held or being opened: the number bounded by maxConnectionsPerEndpoint. */
  private int total() {
    return idle.size() + leased.size() + connecting;
  }

  private void publishGauges() {
    stats.active.set(leased.size());
    stats.idle.set(idle.size());
    stats.pending.set(waiters.size());
  }

  private void onHome(Runnable action) {
    if (Vertx.currentContext() == home) {
      action.run();
    } else if (((ContextInternal) home).nettyEventLoop().inEventLoop()) {
      // another context on the home loop's own thread (always so with one event loop): run it
      // now with the home context current, instead of queueing a task per acquire and release
      ((ContextInternal) home).dispatch(v -> action.run());
    } else {
      home.runOnContext(v -> action.run());
    }
  }


  private static String connectFailureMessage(Throwable cause) {
    String message = cause.getMessage();
    return "connect to upstream failed: " + (message != null ? message : cause.getClass().getSimpleName());
  }

  /** A request waiting for a connection. */
  private final class Waiter {
    private final Promise<Lease> promise;
    private long timer = -1;
    private boolean done;

    Waiter(Promise<Lease> promise) {
      this.promise = promise;
    }

    void complete(Lease lease) {
      finish();
      promise.complete(lease);
    }

    void fail(PoolFailure failure) {
      finish();
      promise.fail(failure);
    }

    private void finish() {
      done = true;
      if (timer >= 0) {
        home.owner().cancelTimer(timer);
      }
    }
  }
}
