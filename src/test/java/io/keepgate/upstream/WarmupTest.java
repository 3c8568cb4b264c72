package io.keepgate.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What a warm hand-off sets out to open, from the other members' pool snapshots as the cluster
 * view holds them, and what it says when it ends.
 */
class WarmupTest {

  /** A member's snapshot of upstream "api": per endpoint, connections opened and closed (by reason). */
  private static JsonObject member(boolean self, Object... openedAndClosed) {
    JsonObject endpoints = new JsonObject();
    for (int i = 0; i < openedAndClosed.length; i += 3) {
      endpoints.put((String) openedAndClosed[i], new JsonObject()
          .put("opened", openedAndClosed[i + 1])
          .put("closed", new JsonObject().put("idle_timeout", openedAndClosed[i + 2]).put("error", 0)));
    }
    return new JsonObject().put("self", self)
        .put("pools", new JsonObject().put("api", new JsonObject().put("endpoints", endpoints)));
  }

  private static JsonObject view(JsonObject... members) {
    return new JsonObject().put("members", new JsonArray(java.util.List.of((Object[]) members)));
  }

  @Test
  void aPercentOfWhatAnAverageOtherMemberHoldsRoundedUpAndCappedPerEndpoint() {
    JsonObject view = view(
        member(true, "a:1", 50, 0), // this node: never counted
        member(false, "a:1", 12, 4, "b:1", 3, 0), // holds 8 to a:1, 3 to b:1
        member(false, "a:1", 9, 1, "b:1", 2, 2)); // holds 8 to a:1, none to b:1
    assertEquals(Map.of("a:1", 8, "b:1", 2), Warmup.targets(view, "api", 100, 64), "b:1: 3 / 2 members, rounded up");
    assertEquals(Map.of("a:1", 4, "b:1", 1), Warmup.targets(view, "api", 50, 64));
    assertEquals(Map.of("a:1", 5, "b:1", 2), Warmup.targets(view, "api", 100, 5), "maxConnectionsPerEndpoint caps it");
    assertEquals(Map.of(), Warmup.targets(view, "other", 100, 64), "an upstream nobody holds connections to");
  }

  @Test
  void membersWithoutASnapshotYetAreLeftOutOfTheAverage() {
    JsonObject view = view(member(true), member(false, "a:1", 6, 0), new JsonObject().put("self", false));
    assertEquals(Map.of("a:1", 6), Warmup.targets(view, "api", 100, 64));
  }

  @Test
  void theOutcomeSaysWhetherReadinessWaitedForEveryConnectOrStoppedAtTheTimeout() {
    assertEquals("warmup complete: 8 of 8 connections opened in 420 ms",
        new Warmup.Outcome(true, false, 8, 8, 420).describe());
    assertEquals("warmup timed out after 10000 ms: 3 of 8 connections opened",
        new Warmup.Outcome(true, true, 3, 8, 10000).describe());
    assertEquals("", Warmup.Outcome.NONE.describe());
    assertEquals(new Warmup.Outcome(true, true, 5, 12, 900),
        new Warmup.Outcome(true, false, 2, 4, 300).plus(new Warmup.Outcome(true, true, 3, 8, 900)));
  }
}
