package io.keepgate.cluster;

import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;

/**
 * Adds up pool snapshots of several members into cluster-wide totals per upstream and endpoint:
 * counters, gauges, budget shares and connect-rate shares (fractional) summed, timeouts the lowest,
 * {@code healthy} true only where every member says so.
 *
 * <p>Threading: a pure function.
 */
final class ClusterTotals {
  private ClusterTotals() {}

  /** Snapshots shaped like {@code /admin/pools}'s {@code upstreams} object. */
  static JsonObject of(List<JsonObject> snapshots) {
    JsonObject totals = new JsonObject();
    for (JsonObject snapshot : snapshots) {
      for (Map.Entry<String, Object> upstream : snapshot) {
        totals.put(upstream.getKey(), add(totals.getJsonObject(upstream.getKey()), (JsonObject) upstream.getValue()));
      }
    }
    return totals;
  }

  private static JsonObject add(JsonObject sum, JsonObject stats) {
    if (sum == null) {
      return stats.copy();
    }
    JsonObject result = sum.copy();
    for (Map.Entry<String, Object> field : stats) {
      Object value = field.getValue();
      if (value instanceof Double || value instanceof Float) { // a rate share: 3.334 + 3.333 + 3.333
        double before = ((Number) result.getValue(field.getKey(), 0.0)).doubleValue();
        result.put(field.getKey(), before + ((Number) value).doubleValue());
      } else if (value instanceof Number number) {
        result.put(field.getKey(), combine(field.getKey(), result.getValue(field.getKey()), number.longValue()));
      } else if (value instanceof Boolean healthy) {
        result.put(field.getKey(), result.getBoolean(field.getKey(), true) && healthy);
      } else if (value instanceof JsonObject nested) {
        result.put(field.getKey(), add(result.getJsonObject(field.getKey()), nested));
      }
    }
    return result;
  }

  /** Counters and gauges add up; a timeout ({@code ...TimeoutMs}) is the lowest, the one the cluster applies. */
  private static long combine(String key, Object sum, long value) {
    if (!(sum instanceof Number current)) {
      return value;
    }
    return key.endsWith("TimeoutMs") ? Math.min(current.longValue(), value) : current.longValue() + value;
  }
}
