package io.keepgate.upstream;

import io.keepgate.cluster.ClusterState;
import io.keepgate.config.WarmupConfig;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The warm hand-off of a node that starts into a busy cluster ({@code upstreams[].pool.warmup}):
 * before the node turns ready, every endpoint the other members hold connections to gets
 * {@code percent} of what an average other member holds (read from their pool snapshots in the
 * cluster view, as {@code /admin/pools} shows them), opened by this node's pools, each on its own
 * loop, paced by the connect rate when one is set, within the pools' limits, and left idle. The
 * node turns ready when every such connect has settled, or at the upstream's {@code timeoutMs},
 * whichever comes first; {@link Outcome} says which.
 *
 * <p>It is based on what the others hold, not on this node's budget share, so that a node joining
 * a lightly loaded cluster opens a few connections rather than a share of a large budget that would
 * sit idle until it expired; the budget (and {@code maxConnectionsPerEndpoint}) still cap it.
 * Nothing runs when the cluster is off or this node is its only member.
 *
 * <p>Threading: started by the gateway's starting thread; the snapshot poll and the timeout are
 * Vert.x timers (the view is a local read, never a Hazelcast call); the pools report back from
 * their loops, counted with atomics; {@link #done} completes once.
 */
public final class Warmup {
  private static final Logger log = LoggerFactory.getLogger(Warmup.class);
  /** How often the view is read until every other member's snapshot is in (they publish every second). */
  static final long SNAPSHOT_POLL_MILLIS = 100;

  /** Counts the warm connects of one upstream as they settle. Any thread. */
  interface Progress {
    void opened();

    void failed();

    /** Connects that will not be made: a limit was reached, or the pool closed or was ejected. */
    void skipped(int count);
  }

  /**
   * How a warm hand-off ended.
   *
   * @param ran      whether there was one (warmup on, and other members to learn from)
   * @param timedOut whether readiness stopped waiting at {@code timeoutMs} with connects unsettled
   */
  public record Outcome(boolean ran, boolean timedOut, int opened, int target, long millis) {
    static final Outcome NONE = new Outcome(false, false, 0, 0, 0);

    /** What the log and the readiness answer say; empty when nothing ran. */
    public String describe() {
      if (!ran) {
        return "";
      }
      return timedOut
          ? "warmup timed out after " + millis + " ms: " + opened + " of " + target + " connections opened"
          : "warmup complete: " + opened + " of " + target + " connections opened in " + millis + " ms";
    }

    Outcome plus(Outcome other) {
      if (!other.ran) {
        return this;
      }
      if (!ran) {
        return other;
      }
      return new Outcome(true, timedOut || other.timedOut, opened + other.opened, target + other.target,
          Math.max(millis, other.millis));
    }
  }

  private final List<Run> runs;
  private final CompletableFuture<Outcome> done;

  private Warmup(List<Run> runs) {
    this.runs = runs;
    CompletableFuture<Outcome> all = CompletableFuture.completedFuture(Outcome.NONE);
    for (Run run : runs) {
      all = all.thenCombine(run.done, Outcome::plus);
    }
    this.done = all;
  }

  /** Starts the warm hand-off of every upstream that has one; done at once when there is nothing to do. */
  public static Warmup start(Vertx vertx, Upstreams upstreams, ClusterState cluster) {
    if (cluster.memberCount() <= 1) {
      return new Warmup(List.of());
    }
    List<Run> runs = new ArrayList<>();
    for (Upstream upstream : upstreams.all()) {
      if (upstream.config().pool().warmup().enabled()) {
        runs.add(new Run(upstream, System.nanoTime()));
      }
    }
    runs.forEach(run -> run.start(vertx, cluster));
    return new Warmup(runs);
  }

  /** Completes when every upstream's warmup is done or timed out. */
  public CompletableFuture<Outcome> done() {
    return done;
  }

  /** Where the warmup is, for the readiness answer while it runs. */
  public String status() {
    int opened = 0;
    int target = 0;
    for (Run run : runs) {
      if (run.target.get() < 0) {
        return "warming up: reading the other members' pools";
      }
      opened += run.opened.get();
      target += run.target.get();
    }
    return "warming up: " + opened + " of " + target + " connections opened";
  }

  /**
   * Connections to open per endpoint address of {@code upstream}: {@code percent} of what an average
   * other member holds (opened minus closed, from its snapshot in {@code view}), rounded up, at most
   * {@code maxPerEndpoint}. Members without a snapshot yet are left out of the average; endpoints
   * nobody holds a connection to are left out of the result.
   */
  static Map<String, Integer> targets(JsonObject view, String upstream, int percent, int maxPerEndpoint) {
    Map<String, Long> held = new TreeMap<>();
    long members = 0;
    for (Object entry : view.getJsonArray("members", new JsonArray())) {
      JsonObject member = (JsonObject) entry;
      JsonObject pools = member.getJsonObject("pools");
      if (member.getBoolean("self", false) || pools == null) {
        continue;
      }
      members++;
      JsonObject endpoints = pools.getJsonObject(upstream, new JsonObject())
          .getJsonObject("endpoints", new JsonObject());
      endpoints.forEach(e -> held.merge(e.getKey(), connections((JsonObject) e.getValue()), Long::sum));
    }
    Map<String, Integer> targets = new TreeMap<>();
    long divisor = 100 * members;
    for (Map.Entry<String, Long> endpoint : held.entrySet()) {
      long wanted = (endpoint.getValue() * percent + divisor - 1) / Math.max(1, divisor);
      if (wanted > 0) {
        targets.put(endpoint.getKey(), (int) Math.min(maxPerEndpoint, wanted));
      }
    }
    return targets;
  }

  /** Connections a member holds to an endpoint, from its snapshot: opened and not closed since. */
  private static long connections(JsonObject endpoint) {
    long held = endpoint.getLong("opened", 0L);
    for (Object closed : endpoint.getJsonObject("closed", new JsonObject()).getMap().values()) {
      held -= ((Number) closed).longValue();
    }
    return Math.max(0, held);
  }

  /** Whether every other member in {@code view} has published its snapshot. */
  private static boolean snapshotsIn(JsonObject view) {
    return view.getJsonArray("members", new JsonArray()).stream().map(JsonObject.class::cast)
        .allMatch(member -> member.getBoolean("self", false) || member.getJsonObject("pools") != null);
  }

  /** The warmup of one upstream. */
  private static final class Run implements Progress {
    private final Upstream upstream;
    private final WarmupConfig config;
    private final long startNanos;
    /** Connections to open; -1 until the other members' snapshots are read. */
    final AtomicInteger target = new AtomicInteger(-1);
    final AtomicInteger opened = new AtomicInteger();
    private final AtomicInteger settled = new AtomicInteger();
    final CompletableFuture<Outcome> done = new CompletableFuture<>();
    private volatile Vertx vertx;
    private volatile long poll = -1;
    private volatile long timeout = -1;

    Run(Upstream upstream, long startNanos) {
      this.upstream = upstream;
      this.config = upstream.config().pool().warmup();
      this.startNanos = startNanos;
    }

    void start(Vertx vertx, ClusterState cluster) {
      this.vertx = vertx;
      timeout = vertx.setTimer(config.timeout().toMillis(), id -> finish(true));
      poll = vertx.setPeriodic(1, SNAPSHOT_POLL_MILLIS, id -> {
        JsonObject view = cluster.view();
        if (snapshotsIn(view) && target.get() < 0) {
          vertx.cancelTimer(poll);
          open(view);
        }
      });
    }

    /** Asks each endpoint's pools for their part of the target. */
    private void open(JsonObject view) {
      Map<String, Integer> targets = targets(view, upstream.name(), config.percent(),
          upstream.config().pool().maxConnectionsPerEndpoint());
      List<UpstreamEndpoint> endpoints = new ArrayList<>();
      int total = 0;
      for (UpstreamEndpoint endpoint : upstream.endpoints()) {
        if (targets.getOrDefault(endpoint.address().toString(), 0) > 0) {
          endpoints.add(endpoint);
          total += targets.get(endpoint.address().toString());
        }
      }
      log.info("warmup of upstream {}: opening {} connections {} ({} % of what the other members hold)",
          upstream.name(), total, targets, config.percent());
      target.set(total); // before any pool can report
      if (total == 0) {
        finish(false);
        return;
      }
      for (UpstreamEndpoint endpoint : endpoints) {
        endpoint.warm(targets.get(endpoint.address().toString()), this);
      }
    }

    @Override
    public void opened() {
      opened.incrementAndGet();
      settle(1);
    }

    @Override
    public void failed() {
      settle(1);
    }

    @Override
    public void skipped(int count) {
      settle(count);
    }

    private void settle(int count) {
      if (settled.addAndGet(count) >= target.get()) {
        finish(false);
      }
    }

    private void finish(boolean timedOut) {
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
      if (done.complete(new Outcome(true, timedOut, opened.get(), Math.max(0, target.get()), millis))) {
        vertx.cancelTimer(poll);
        vertx.cancelTimer(timeout);
        upstream.endpoints().forEach(UpstreamEndpoint::stopWarming); // what is left unopened stays so
      }
    }
  }
}
