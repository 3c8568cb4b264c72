package io.keepgate.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Cluster-wide totals of fractional values: each member's share of a connect rate adds up to the rate. */
class ClusterTotalsTest {

  @Test
  void connectRateSharesAddUpAsFractionsNotTruncated() {
    List<JsonObject> snapshots = List.of(3.334, 3.333, 3.333).stream()
        .map(rate -> new JsonObject(new JsonObject().put("api", new JsonObject().put("endpoints", new JsonObject()
            .put("e:1", new JsonObject().put("connectRate", rate).put("connectsPaced", 2)))).encode()))
        .toList();
    JsonObject endpoint = ClusterTotals.of(snapshots).getJsonObject("api").getJsonObject("endpoints")
        .getJsonObject("e:1");
    assertEquals(10.0, endpoint.getDouble("connectRate"), 1e-9);
    assertEquals(6, endpoint.getInteger("connectsPaced"));
  }
}
