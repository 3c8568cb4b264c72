package io.keepgate.cluster;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The cluster of one: {@code cluster.enabled: false}. No Hazelcast is started; this node owns every
 * budget and every probe, and verdicts stay local.
 *
 * <p>Threading: the snapshot supplier is set once at startup; the learned keep-alive timeouts are a
 * concurrent map.
 */
public final class LocalNode implements ClusterState {
  private volatile Supplier<JsonObject> snapshot = JsonObject::new;
  /** Learned keep-alive timeouts by {@code upstream|endpoint}: kept across a reload that rebuilds the endpoint. */
  private final Map<String, Long> keepAliveTimeouts = new ConcurrentHashMap<>();

  @Override
  public int shareOf(int total) {
    return total;
  }

  @Override
  public boolean leaseValid() {
    return true;
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
  public void publishHealth(String upstream, String endpoint, boolean healthy) {
  }

  @Override
  public void onHealth(HealthListener listener) {
  }

  @Override
  public void publishKeepAliveTimeout(String upstream, String endpoint, long millis) {
    keepAliveTimeouts.put(upstream + "|" + endpoint, millis);
  }

  @Override
  public long keepAliveTimeoutMillis(String upstream, String endpoint) {
    return keepAliveTimeouts.getOrDefault(upstream + "|" + endpoint, -1L);
  }

  @Override
  public void onKeepAliveTimeout(KeepAliveListener listener) {
  }

  @Override
  public void onSharesChanged(Runnable listener) {
  }

  @Override
  public void publishPoolsPeriodically(Supplier<JsonObject> snapshot) {
    this.snapshot = snapshot;
  }

  @Override
  public double requestRateElsewhere(String upstream) {
    return 0;
  }

  @Override
  public JsonObject view() {
    JsonObject current = snapshot.get();
    JsonObject pools = current.getJsonObject("upstreams", new JsonObject());
    return new JsonObject()
        .put("enabled", false)
        .put("members", new JsonArray().add(new JsonObject()
            .put("name", ManagementFactory.getRuntimeMXBean().getName())
            .put("self", true)
            .put("configVersion", current.getInteger("configVersion"))
            .put("pools", pools)))
        .put("keepAliveTimeoutsMs", new JsonObject(Map.copyOf(keepAliveTimeouts)))
        .put("totals", ClusterTotals.of(java.util.List.of(pools)));
  }

  @Override
  public void leave() {
  }
}
