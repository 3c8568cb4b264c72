package io.keepgate.upstream;

import io.keepgate.cluster.ClusterState;
import io.keepgate.config.Endpoint;
import io.keepgate.config.UpstreamConfig;
import io.keepgate.health.EndpointHealth;
import io.keepgate.internal.Loop;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import io.netty.channel.Channel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;

/**
 * One endpoint of an upstream: a {@link LoopPool} per event loop, and what those pools share: the
 * permits that keep {@code maxConnectionsPerEndpoint} exact for the node, this node's share of the
 * upstream's {@code maxConnectionsTotal}, its share of the endpoint's connect rate, the bounded
 * pending queue, the health verdict, what is known of the backend's keep-alive timeout, and the
 * counters (which outlive a reload, keyed by upstream and endpoint).
 *
 * <p>Threading: safe from any thread; the pools are each confined to their loop.
 */
public final class UpstreamEndpoint {
  private final UpstreamConfig config;
  private final Endpoint address;
  private final EndpointStats stats;
  private final EndpointHealth health;
  private final ConnectionPermits permits;
  private final BudgetShare budget;
  private final ClusterState cluster;
  private final KeepAliveLearning keepAlive;
  private final List<LoopPool> pools = new ArrayList<>();
  private final AtomicInteger queued = new AtomicInteger();
  private final AtomicInteger emptyPools = new AtomicInteger();
  private final AtomicInteger starvingPools = new AtomicInteger();
  /** The ramp of an endpoint that joined a serving upstream, until it is over; null after, or never. */
  private volatile SlowStart slowStart;
  /** This node's bucket of the endpoint's cluster-wide connect rate ({@code pool.connectRate}). */
  private volatile ConnectRate connectRate = ConnectRate.UNPACED;

  UpstreamEndpoint(UpstreamConfig config, Endpoint address, EndpointStats stats, EndpointHealth health,
      BudgetShare budget, ClusterState cluster, List<Loop> loops,
      BiFunction<UpstreamEndpoint, Loop, Connector> connectors) {
    this.config = config;
    this.address = address;
    this.stats = stats;
    this.health = health;
    this.permits = new ConnectionPermits(config.pool().maxConnectionsPerEndpoint());
    this.budget = budget;
    this.cluster = cluster;
    this.keepAlive = new KeepAliveLearning(config.pool().idleTimeout(), config.pool().keepAliveLearning());
    long learned = cluster.keepAliveTimeoutMillis(config.name(), address.toString());
    if (learned >= 0) {
      keepAlive.adoptCluster(learned); // what the cluster (or this node, before a reload) learned already
    }
    stats.healthFrom(health::healthy);
    stats.keepAliveFrom(keepAlive);
    stats.pendingLimit(config.pool().maxPendingRequests());
    for (Loop loop : loops) {
      LoopPool pool = new LoopPool(this, loop, connectors.apply(this, loop));
      pools.add(pool);
      stats.attach(pool);
      loop.run(() -> loop.timers().addSweeper(pool));
    }
  }

  public UpstreamConfig config() {
    return config;
  }

  public Endpoint address() {
    return address;
  }

  public EndpointStats stats() {
    return stats;
  }

  public EndpointHealth health() {
    return health;
  }

  /** The pool of the event loop with this index. */
  public LoopPool pool(int loopIndex) {
    return pools.get(loopIndex);
  }

  List<LoopPool> pools() {
    return pools;
  }

  /** Ramps this endpoint's share of new requests up from now ({@code upstreams[].slowStartMs}). */
  void startSlowly(SlowStart ramp) {
    this.slowStart = ramp;
  }

  /** Paces this endpoint's connects with {@code rate} ({@code pool.connectRate}); unpaced until called. */
  void paceConnects(ConnectRate rate) {
    connectRate = rate;
    stats.connectRateFrom(rate::perSecond);
  }

  ConnectRate connectRate() {
    return connectRate;
  }

  /**
   * A warm hand-off: opens {@code count} connections ahead of any request, spread over the loops'
   * pools (each opens its part on its own loop) and left idle; each settles on {@code progress}.
   */
  void warm(int count, Warmup.Progress progress) {
    stats.warmupTarget(count);
    for (int i = 0; i < pools.size(); i++) {
      int part = ClusterState.share(count, pools.size(), i);
      if (part > 0) {
        pools.get(i).warm(part, progress);
      }
    }
  }

  void stopWarming() {
    pools.forEach(LoopPool::stopWarming);
  }

  /** The ramp this endpoint is on, or null. */
  SlowStart slowStart() {
    return slowStart;
  }

  void slowStartOver() {
    slowStart = null;
  }

  /** Whether this endpoint is still ramping up to its full share (slow start). */
  public boolean warming() {
    SlowStart ramp = slowStart;
    return ramp != null && !ramp.over();
  }

  /** Requests in flight or waiting here, for least-requests balancing. */
  int load() {
    return stats.active() + stats.pending();
  }

  PoolFailure unhealthy() {
    return new PoolFailure(PoolFailure.Kind.UNHEALTHY, "endpoint " + address + " is unhealthy");
  }

  /** How long a connection whose backend announced no timeout may stay idle: {@code idleTimeoutMs}, or less once learned. */
  long idleTimeoutNanos() {
    return keepAlive.idleTimeoutNanos();
  }

  /**
   * The backend closed, at {@code nowNanos}, a connection that had been idle for {@code idleAgeNanos}:
   * idle in the pool, or just reused ({@code onReuse}, the keep-alive race). A new lower estimate goes
   * to the cluster.
   */
  void observeBackendClose(long nowNanos, long idleAgeNanos, boolean onReuse) {
    stats.countBackendClose(onReuse);
    long before = keepAlive.idleTimeoutNanos();
    long publish = keepAlive.observe(nowNanos, idleAgeNanos);
    if (publish >= 0) {
      cluster.publishKeepAliveTimeout(config.name(), address.toString(), publish);
    }
    if (keepAlive.idleTimeoutNanos() != before) {
      pools.forEach(LoopPool::idleTimeoutChanged);
    }
  }

  /** The cluster's learned keep-alive timeout for this endpoint changed. Any thread. */
  public void adoptClusterKeepAlive(long millis) {
    long before = keepAlive.idleTimeoutNanos();
    if (keepAlive.adoptCluster(millis) && keepAlive.idleTimeoutNanos() != before) {
      pools.forEach(LoopPool::idleTimeoutChanged);
    }
  }

  /** Takes an endpoint permit and a budget permit for a new connection of {@code pool}. */
  boolean takePermits(LoopPool pool) {
    if (!permits.tryTake(pool)) {
      return false;
    }
    if (!budget.tryTake(pool)) {
      permits.give();
      return false;
    }
    return true;
  }

  /** The channels idle in every pool of this endpoint, read on their loops; for tests. */
  public CompletableFuture<List<Channel>> idleChannelsForTest() {
    List<Channel> all = new CopyOnWriteArrayList<>();
    return CompletableFuture.allOf(pools.stream().map(pool -> pool.idleChannelsForTest().thenAccept(all::addAll))
        .toArray(CompletableFuture[]::new)).thenApply(v -> List.copyOf(all));
  }

  int permitsTakenForTest() {
    return permits.taken();
  }

  void givePermits() {
    permits.give();
    budget.give();
  }

  boolean overBudget() {
    return budget.over();
  }

  /** Whether this node's lease on its budget shares has lapsed (the share is at the floor now). */
  boolean budgetLapsed() {
    return budget.lapsed();
  }

  /** A request joins the pending queue, unless {@code maxPendingRequests} already wait. */
  boolean tryQueue() {
    while (true) {
      int current = queued.get();
      if (current >= config.pool().maxPendingRequests()) {
        return false;
      }
      if (queued.compareAndSet(current, current + 1)) {
        return true;
      }
    }
  }

  void leaveQueue() {
    queued.decrementAndGet();
  }

  /** A pool's hunger changed: the counts move, and a pool that became hungry asks the others. */
  void hungerChanged(LoopPool pool, LoopPool.Hunger before, LoopPool.Hunger now) {
    counter(before).ifPresent(AtomicInteger::decrementAndGet);
    counter(now).ifPresent(AtomicInteger::incrementAndGet);
    if (now != LoopPool.Hunger.NONE) {
      requestDonations(pool, now);
    }
  }

  private Optional<AtomicInteger> counter(LoopPool.Hunger hunger) {
    return switch (hunger) {
      case NONE -> Optional.empty();
      case EMPTY -> Optional.of(emptyPools);
      case STARVING -> Optional.of(starvingPools);
    };
  }

  /** Asks every pool but {@code pool} to give up an idle connection for it. */
  void requestDonations(LoopPool pool, LoopPool.Hunger need) {
    for (LoopPool other : pools) {
      if (other != pool) {
        other.requestDonation(need);
      }
    }
  }

  /** Whether a loop other than {@code pool} is hungry. */
  boolean hungryElsewhere(LoopPool pool) {
    return emptyPools.get() + starvingPools.get() > (pool.hunger() == LoopPool.Hunger.NONE ? 0 : 1);
  }

  /** Whether {@code pool}, holding {@code owned} connections, should give up the one it releases to a hungry loop. */
  boolean shouldDonate(LoopPool pool, int owned) {
    int starving = starvingPools.get() - (pool.hunger() == LoopPool.Hunger.STARVING ? 1 : 0);
    int empty = emptyPools.get() - (pool.hunger() == LoopPool.Hunger.EMPTY ? 1 : 0);
    return starving > 0 || (empty > 0 && owned >= 2);
  }

  /** This endpoint was ejected: every pool closes its idle connections and lets its waiters go elsewhere. */
  public void onEjected() {
    pools.forEach(LoopPool::ejected);
  }

  void shedOverBudget() {
    pools.forEach(LoopPool::shedOverBudget);
  }

  /** Closes every pool; completes when all their connections are gone. */
  CompletableFuture<Void> close(CloseReason reason) {
    return CompletableFuture.allOf(pools.stream().map(pool -> pool.close(reason).thenRun(() -> stats.detach(pool)))
        .toArray(CompletableFuture[]::new));
  }

  @Override
  public String toString() {
    return config.name() + "/" + address;
  }
}
