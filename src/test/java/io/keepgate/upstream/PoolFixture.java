package io.keepgate.upstream;

import io.keepgate.cluster.ClusterState;
import io.keepgate.cluster.LocalNode;
import io.keepgate.config.ConfigLoader;
import io.keepgate.config.UpstreamConfig;
import io.keepgate.health.EndpointHealth;
import io.keepgate.http1.ResponseDecoder;
import io.keepgate.internal.Loop;
import io.keepgate.internal.LoopTimers;
import io.keepgate.internal.Ticker;
import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import io.vertx.core.json.JsonObject;

/**
 * An endpoint with its loop pools and no sockets: virtual time ({@link #advance}), hand-fired
 * ticks, a connector whose connects the test completes ({@link #completeConnect}), and embedded
 * channels standing in for upstream sockets. Test thread only.
 */
final class PoolFixture {
  long nowNanos = 1_000_000_000L;
  final Ticker ticker = () -> nowNanos;
  final List<Loop> loops = new ArrayList<>();
  /** Pools that asked for a connect, in order; each waits for the test to complete it. */
  final ArrayDeque<LoopPool> connects = new ArrayDeque<>();
  final List<EmbeddedChannel> channels = new ArrayList<>();
  final UpstreamEndpoint endpoint;
  final SettableCluster cluster = new SettableCluster();
  final BudgetShare budget;
  /** Whether a connect completes within the call that starts it, as one to a loopback address may. */
  boolean connectsCompleteAtOnce;

  /** @param upstreamJson the upstream object, e.g. {@code {"name":"up","endpoints":["h:1"],"pool":{...}}} */
  PoolFixture(int loopCount, String upstreamJson, int budgetLimit) throws Exception {
    UpstreamConfig config = ConfigLoader.parse("{\"upstreams\":[" + upstreamJson + "]}").upstreams().get(0);
    for (int i = 0; i < loopCount; i++) {
      loops.add(new Loop(i, new EmbeddedChannel().eventLoop(), new LoopTimers(ticker)));
    }
    cluster.share = budgetLimit;
    budget = BudgetShare.of(budgetLimit, cluster);
    EndpointHealth health = new EndpointHealth(config.name(), config.endpoints().get(0), config.healthCheck(),
        new LocalNode());
    endpoint = new UpstreamEndpoint(config, config.endpoints().get(0), new EndpointStats(), health, budget, cluster,
        loops, (e, loop) -> pool -> {
          connects.add(pool);
          if (connectsCompleteAtOnce) {
            completeConnect();
          }
        });
    health.onEjected(endpoint::onEjected);
  }

  PoolFixture(String poolJson) throws Exception {
    this(1, "{\"name\":\"up\",\"endpoints\":[\"backend:9000\"],\"pool\":" + poolJson + "}", 0);
  }

  LoopPool pool() {
    return endpoint.pool(0);
  }

  void advance(Duration by) {
    nowNanos += by.toNanos();
  }

  /** One tick of every loop's timers at the current virtual time. */
  void tick() {
    loops.forEach(loop -> loop.timers().tick(nowNanos));
  }

  /** Completes the oldest pending connect with a new embedded connection; returns it. */
  UpstreamConnection completeConnect() {
    LoopPool pool = connects.poll();
    if (pool == null) {
      throw new AssertionError("no connect was asked for");
    }
    EmbeddedChannel channel = new EmbeddedChannel();
    ResponseDecoder decoder = new ResponseDecoder();
    UpstreamConnection connection = new UpstreamConnection(channel, decoder, pool, nowNanos);
    channel.pipeline().addLast(decoder, connection);
    channels.add(channel);
    pool.onConnected(connection);
    return connection;
  }

  void failConnect(String reason) {
    connects.poll().onConnectFailed(reason);
  }

  long closed(CloseReason reason) {
    return endpoint.stats().closed(reason);
  }

  /** Sockets open now, across every loop. */
  long openChannels() {
    return channels.stream().filter(EmbeddedChannel::isOpen).count();
  }

  /** A waiter that records what it got. */
  static final class Recorder implements LoopPool.Waiter {
    UpstreamConnection leased;
    PoolFailure failure;

    @Override
    public void onLeased(UpstreamConnection connection) {
      if (leased != null || failure != null) {
        throw new AssertionError("called back twice");
      }
      leased = connection;
    }

    @Override
    public void onPoolFailure(PoolFailure failure) {
      if (leased != null || this.failure != null) {
        throw new AssertionError("called back twice");
      }
      this.failure = failure;
    }
  }

  /** A cluster whose split of the budget and whose lease the test sets, and that keeps the keep-alive timeouts published to it. */
  static final class SettableCluster implements ClusterState {
    volatile int share;
    volatile boolean leaseValid = true;
    final Map<String, Long> keepAliveTimeouts = new ConcurrentHashMap<>();

    @Override
    public void publishKeepAliveTimeout(String upstream, String endpoint, long millis) {
      keepAliveTimeouts.put(upstream + "|" + endpoint, millis);
    }

    @Override
    public long keepAliveTimeoutMillis(String upstream, String endpoint) {
      return keepAliveTimeouts.getOrDefault(upstream + "|" + endpoint, -1L);
    }

    @Override
    public void onKeepAliveTimeout(KeepAliveListener listener) {}

    @Override
    public int shareOf(int total) {
      return leaseValid ? share : Math.min(total, 1);
    }

    @Override
    public boolean leaseValid() {
      return leaseValid;
    }

    @Override
    public int memberCount() {
      return 1;
    }

    @Override
    public boolean ownsProbe(String upstream, String endpoint) {
      return true;
    }

    @Override
    public void publishHealth(String upstream, String endpoint, boolean healthy) {}

    @Override
    public void onHealth(HealthListener listener) {}

    @Override
    public void onSharesChanged(Runnable listener) {}

    @Override
    public void publishPoolsPeriodically(Supplier<JsonObject> snapshot) {}

    @Override
    public double requestRateElsewhere(String upstream) {
      return 0;
    }

    @Override
    public JsonObject view() {
      return new JsonObject();
    }

    @Override
    public void leave() {}
  }
}
