package io.keepgate.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryExpiredListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import com.hazelcast.partition.Partition;
import io.keepgate.config.ClusterConfig;
import io.keepgate.config.Endpoint;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster on an embedded Hazelcast member.
 *
 * <ul>
 *   <li>Health: map {@code keepgate.health}, key {@code upstream|endpoint}, value the verdict.
 *       Written with {@code setAsync}; an entry listener hands every change to the pools.</li>
 *   <li>Learned backend keep-alive timeouts: map {@code keepgate.keepalive}, key {@code upstream|endpoint},
 *       value milliseconds; written by the node that learned a lower one, mirrored locally, and handed
 *       to the pools of every node, so that none has to see the backend's close itself.</li>
 *   <li>Pool snapshots: map {@code keepgate.pools}, key the member UUID, value this node's
 *       {@code /admin/pools} JSON, written every second with a 5 s TTL and mirrored locally, so
 *       a dead member's snapshot disappears with it.</li>
 *   <li>Budgets: split among the members of a {@link ShareLease}'s basis, sorted by UUID: member
 *       {@code i} of {@code n} gets {@code total / n}, plus one while {@code i < total % n}. The
 *       lease is updated every {@value #TICK_MILLIS} ms and on every membership event from the
 *       local member list; a member that leaves the view keeps its share until its cluster port
 *       refuses a connection (probed every second) or the lease rules let the majority take it.</li>
 *   <li>Probes: the owner of the key's partition probes the endpoint, so N replicas do not
 *       multiply probe traffic by N.</li>
 * </ul>
 *
 * <p>Threading: Hazelcast calls listeners on its own event threads; they update concurrent maps,
 * volatile fields and the synchronized lease only, and pass verdicts on to listeners that hop to
 * Vert.x contexts. Lease updates and snapshots run on the {@code keepgate-cluster} scheduler, probes
 * of departed members on {@code keepgate-cluster-probe} (a blocking connect with a timeout). The
 * public methods never block except {@link #start} and {@link #leave}, called from the main thread.
 */
public final class HazelcastCluster implements ClusterState {
  private static final Logger log = LoggerFactory.getLogger(HazelcastCluster.class);
  private static final String HEALTH_MAP = "keepgate.health";
  private static final String POOLS_MAP = "keepgate.pools";
  private static final String KEEPALIVE_MAP = "keepgate.keepalive";
  private static final int SNAPSHOT_TTL_SECONDS = 5;
  private static final int TICK_MILLIS = 250;
  private static final int PROBE_TIMEOUT_MILLIS = 1000;

  private final HazelcastInstance hazelcast;
  private final IMap<String, Boolean> health;
  private final IMap<String, String> pools;
  private final IMap<String, Long> keepAliveTimeouts;
  private final Map<String, Long> keepAliveCopy = new ConcurrentHashMap<>();
  private final List<KeepAliveListener> keepAliveListeners = new CopyOnWriteArrayList<>();
  private final Map<String, Boolean> healthCopy = new ConcurrentHashMap<>();
  private final Map<String, JsonObject> poolsCopy = new ConcurrentHashMap<>();
  private final List<HealthListener> healthListeners = new CopyOnWriteArrayList<>();
  private final List<Runnable> shareListeners = new CopyOnWriteArrayList<>();
  private final ScheduledExecutorService scheduler = daemonScheduler("keepgate-cluster");
  private final ScheduledExecutorService prober = daemonScheduler("keepgate-cluster-probe");
  /** Where each member of the lease's basis was last seen, for probing it once it has left the view. */
  private final Map<String, InetSocketAddress> addresses = new ConcurrentHashMap<>();
  private final ShareLease lease;
  private volatile List<Member> members = List.of();

  private HazelcastCluster(HazelcastInstance hazelcast, Duration lease) {
    this.hazelcast = hazelcast;
    this.health = hazelcast.getMap(HEALTH_MAP);
    this.pools = hazelcast.getMap(POOLS_MAP);
    this.keepAliveTimeouts = hazelcast.getMap(KEEPALIVE_MAP);
    this.members = List.copyOf(hazelcast.getCluster().getMembers());
    this.lease = new ShareLease(lease, selfId(), ids(members), System.nanoTime());
  }

  /** Starts the member and joins the cluster. Blocks until joined (or alone). */
  public static HazelcastCluster start(ClusterConfig config) {
    HazelcastCluster cluster = new HazelcastCluster(Hazelcast.newHazelcastInstance(hazelcastConfig(config)),
        config.lease());
    cluster.listen();
    log.info("cluster={} member={} joined: {} members", config.name(),
        cluster.hazelcast.getCluster().getLocalMember().getAddress(), cluster.memberCount());
    return cluster;
  }

  static Config hazelcastConfig(ClusterConfig cluster) {
    Config config = new Config();
    config.setClusterName(cluster.name());
    config.setInstanceName("keepgate-" + UUID.randomUUID());
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.shutdownhook.enabled", "false"); // keepgate leaves on drain
    config.setProperty("hazelcast.socket.bind.any", "false");
    config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    config.setProperty("hazelcast.max.no.heartbeat.seconds", "5"); // a frozen member leaves within ~5 s
    config.setProperty("hazelcast.wait.seconds.before.join", "0");
    config.setProperty("hazelcast.max.wait.seconds.before.join", "1");
    config.setProperty("hazelcast.merge.first.run.delay.seconds", "5");
    config.setProperty("hazelcast.merge.next.run.delay.seconds", "5");
    config.setProperty("hazelcast.health.monitoring.level", "OFF");
    config.setProperty("hazelcast.partition.count", "71");

    NetworkConfig network = config.getNetworkConfig();
    String host = cluster.effectiveHost();
    network.setPort(cluster.port()).setPortAutoIncrement(false);
    network.getInterfaces().setEnabled(true).addInterface(host);
    network.setPublicAddress(host + ":" + cluster.port());
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    if (!cluster.kubernetesServiceDns().isEmpty()) {
      join.getKubernetesConfig().setEnabled(true).setProperty("service-dns", cluster.kubernetesServiceDns());
    } else {
      join.getTcpIpConfig().setEnabled(true)
          .setConnectionTimeoutSeconds(1) // an absent peer must not hold a starting node for 5 s
          .setMembers(cluster.members().stream().map(Endpoint::toString).toList());
    }
    return config;
  }

  private void listen() {
    hazelcast.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
        log.info("cluster member joined: {} {}", event.getMember().getUuid(), event.getMember().getAddress());
        updateLease();
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
        poolsCopy.remove(event.getMember().getUuid().toString());
        log.info("cluster member left the view: {} {}; its share is held until it is known gone",
            event.getMember().getUuid(), event.getMember().getAddress());
        updateLease();
        prober.execute(HazelcastCluster.this::probeDeparted);
      }
    });
    health.addEntryListener(new EntryMirror<Boolean>((key, healthy) -> {
      healthCopy.put(key, healthy);
      healthListeners.forEach(listener -> deliver(listener, key, healthy));
    }), true);
    pools.addEntryListener(new PoolsMapListener(), true);
    health.forEach(healthCopy::put); // verdicts that predate this member: startup only, main thread
    keepAliveTimeouts.addEntryListener(new EntryMirror<Long>((key, millis) -> {
      keepAliveCopy.put(key, millis);
      keepAliveListeners.forEach(listener -> deliverKeepAlive(listener, key, millis));
    }), true);
    keepAliveTimeouts.forEach(keepAliveCopy::put);
    scheduler.scheduleAtFixedRate(this::updateLease, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
    prober.scheduleWithFixedDelay(this::probeDeparted, 1, 1, TimeUnit.SECONDS);
  }

  /** Feeds the current view to the lease; when a share may have changed, tells the pools. */
  private void updateLease() {
    try {
      List<Member> view = List.copyOf(hazelcast.getCluster().getMembers());
      members = view;
      view.forEach(m -> addresses.put(m.getUuid().toString(),
          InetSocketAddress.createUnresolved(m.getAddress().getHost(), m.getAddress().getPort())));
      if (lease.update(System.nanoTime(), selfId(), ids(view))) {
        log.info("cluster shares changed: {} members in view, budgets split among {}, lease {}", view.size(),
            lease.basis().size(), lease.valid(System.nanoTime()) ? "held" : "lapsed (one connection per budget)");
        shareListeners.forEach(Runnable::run);
      }
    } catch (RuntimeException e) {
      log.warn("cluster lease update failed: {}", e.toString()); // the next tick retries
    }
  }

  /**
   * Connects to the cluster port of each member that left the view. A refusal means its process
   * is gone and the kernel has closed its sockets, so its share is free at once; a connection or a
   * timeout (frozen, partitioned) leaves the share to the lease rules.
   */
  private void probeDeparted() {
    for (String member : lease.departed()) {
      InetSocketAddress address = addresses.get(member);
      if (address != null && refusesConnections(address)) {
        log.info("departed cluster member {} at {} refuses connections: its process is gone", member, address);
        if (lease.gone(member)) {
          addresses.remove(member);
          shareListeners.forEach(Runnable::run);
        }
      }
    }
  }

  private static boolean refusesConnections(InetSocketAddress unresolved) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(unresolved.getHostString(), unresolved.getPort()), PROBE_TIMEOUT_MILLIS);
      return false;
    } catch (ConnectException e) {
      return String.valueOf(e.getMessage()).contains("refused");
    } catch (IOException e) {
      return false;
    }
  }

  private String selfId() {
    return hazelcast.getCluster().getLocalMember().getUuid().toString();
  }

  private static List<String> ids(List<Member> members) {
    return members.stream().map(m -> m.getUuid().toString()).toList();
  }

  private static ScheduledExecutorService daemonScheduler(String name) {
    return Executors.newSingleThreadScheduledExecutor(r -> {
      Thread thread = new Thread(r, name);
      thread.setDaemon(true);
      return thread;
    });
  }

  @Override
  public int shareOf(int total) {
    return lease.shareOf(total, System.nanoTime());
  }

  @Override
  public boolean leaseValid() {
    return lease.valid(System.nanoTime());
  }

  @Override
  public int memberCount() {
    return members.size();
  }

  @Override
  public boolean ownsProbe(String upstream, String endpoint) {
    Partition partition = hazelcast.getPartitionService().getPartition(key(upstream, endpoint));
    Member owner = partition.getOwner();
    return owner == null ? members.size() <= 1 : owner.localMember();
  }

  @Override
  public void publishHealth(String upstream, String endpoint, boolean healthy) {
    String key = key(upstream, endpoint);
    if (!Boolean.valueOf(healthy).equals(healthCopy.get(key))) {
      healthCopy.put(key, healthy);
      health.setAsync(key, healthy).exceptionally(error -> {
        log.warn("could not publish health of {}: {}", key, error.toString());
        return null;
      });
    }
  }

  @Override
  public void onHealth(HealthListener listener) {
    healthListeners.add(listener);
    healthCopy.forEach((key, healthy) -> deliver(listener, key, healthy));
  }

  @Override
  public void publishKeepAliveTimeout(String upstream, String endpoint, long millis) {
    String key = key(upstream, endpoint);
    keepAliveCopy.put(key, millis);
    // off the caller's event loop: not even an asynchronous Hazelcast call runs there
    scheduler.execute(() -> keepAliveTimeouts.setAsync(key, millis).exceptionally(error -> {
      log.warn("could not publish the keep-alive timeout of {}: {}", key, error.toString());
      return null;
    }));
  }

  @Override
  public long keepAliveTimeoutMillis(String upstream, String endpoint) {
    return keepAliveCopy.getOrDefault(key(upstream, endpoint), -1L);
  }

  @Override
  public void onKeepAliveTimeout(KeepAliveListener listener) {
    keepAliveListeners.add(listener);
    keepAliveCopy.forEach((key, millis) -> deliverKeepAlive(listener, key, millis));
  }

  @Override
  public void onSharesChanged(Runnable listener) {
    shareListeners.add(listener);
  }

  @Override
  public void publishPoolsPeriodically(Supplier<JsonObject> snapshot) {
    scheduler.scheduleAtFixedRate(() -> {
      String self = selfId(); // changes when this member merges back after a split
      JsonObject pools = snapshot.get();
      poolsCopy.put(self, pools);
      this.pools.setAsync(self, pools.encode(), SNAPSHOT_TTL_SECONDS, TimeUnit.SECONDS);
    }, 0, 1, TimeUnit.SECONDS);
  }

  @Override
  public double requestRateElsewhere(String upstream) {
    double rate = 0;
    for (Member member : members) {
      JsonObject snapshot = member.localMember() ? null : poolsCopy.get(member.getUuid().toString());
      JsonObject budget = snapshot == null ? null : snapshot.getJsonObject("upstreams", new JsonObject())
          .getJsonObject(upstream, new JsonObject()).getJsonObject("retryBudget");
      if (budget != null) {
        rate += budget.getDouble("requestRate", 0.0);
      }
    }
    return rate;
  }

  @Override
  public JsonObject view() {
    JsonArray memberViews = new JsonArray();
    List<JsonObject> snapshots = new ArrayList<>();
    for (Member member : members) {
      JsonObject snapshot = poolsCopy.get(member.getUuid().toString());
      JsonObject pools = snapshot == null ? null : snapshot.getJsonObject("upstreams");
      if (pools != null) {
        snapshots.add(pools);
      }
      memberViews.add(new JsonObject()
          .put("uuid", member.getUuid().toString())
          .put("address", member.getAddress().getHost() + ":" + member.getAddress().getPort())
          .put("self", member.localMember())
          .put("configVersion", snapshot == null ? null : snapshot.getInteger("configVersion"))
          .put("pools", pools));
    }
    JsonObject verdicts = new JsonObject();
    healthCopy.forEach(verdicts::put);
    JsonObject keepAlive = new JsonObject();
    keepAliveCopy.forEach(keepAlive::put);
    long now = System.nanoTime();
    return new JsonObject()
        .put("enabled", true)
        .put("name", hazelcast.getConfig().getClusterName())
        .put("members", memberViews)
        .put("lease", new JsonObject()
            .put("held", lease.valid(now))
            .put("remainingMs", Math.max(0, TimeUnit.NANOSECONDS.toMillis(lease.remaining(now))))
            .put("splitAmong", lease.basis().size())
            .put("departed", new JsonArray(List.copyOf(lease.departed()))))
        .put("health", verdicts)
        .put("keepAliveTimeoutsMs", keepAlive)
        .put("totals", ClusterTotals.of(snapshots));
  }

  @Override
  public void leave() {
    scheduler.shutdownNow();
    prober.shutdownNow();
    hazelcast.shutdown();
  }

  private static String key(String upstream, String endpoint) {
    return upstream + "|" + endpoint;
  }

  private static void deliver(HealthListener listener, String key, boolean healthy) {
    int bar = key.indexOf('|');
    listener.onVerdict(key.substring(0, bar), key.substring(bar + 1), healthy);
  }

  private static void deliverKeepAlive(KeepAliveListener listener, String key, long millis) {
    int bar = key.indexOf('|');
    listener.onKeepAliveTimeout(key.substring(0, bar), key.substring(bar + 1), millis);
  }

  /** Hands every entry of a map written or rewritten, by any member, to {@code onEntry}. */
  private static final class EntryMirror<V> implements EntryAddedListener<String, V>, EntryUpdatedListener<String, V> {
    private final BiConsumer<String, V> onEntry;

    EntryMirror(BiConsumer<String, V> onEntry) {
      this.onEntry = onEntry;
    }

    @Override
    public void entryAdded(EntryEvent<String, V> event) {
      onEntry.accept(event.getKey(), event.getValue());
    }

    @Override
    public void entryUpdated(EntryEvent<String, V> event) {
      onEntry.accept(event.getKey(), event.getValue());
    }
  }

  private final class PoolsMapListener implements EntryAddedListener<String, String>,
      EntryUpdatedListener<String, String>, EntryRemovedListener<String, String>, EntryExpiredListener<String, String> {
    @Override
    public void entryAdded(EntryEvent<String, String> event) {
      poolsCopy.put(event.getKey(), new JsonObject(event.getValue()));
    }

    @Override
    public void entryUpdated(EntryEvent<String, String> event) {
      poolsCopy.put(event.getKey(), new JsonObject(event.getValue()));
    }

    @Override
    public void entryRemoved(EntryEvent<String, String> event) {
      poolsCopy.remove(event.getKey());
    }

    @Override
    public void entryExpired(EntryEvent<String, String> event) {
      poolsCopy.remove(event.getKey());
    }
  }
}
