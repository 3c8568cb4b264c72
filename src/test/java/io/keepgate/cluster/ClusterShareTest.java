package io.keepgate.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Budget shares add up to the budget exactly; totals add up the members' snapshots. */
class ClusterShareTest {

  @ParameterizedTest(name = "{0} split among {1}")
  @CsvSource({"10,3", "10,1", "7,7", "3,5", "64,6", "1,2", "100,9"})
  void sharesAddUpToTheBudgetAndDifferByAtMostOne(int total, int members) {
    List<Integer> shares = IntStream.range(0, members).map(i -> ClusterState.share(total, members, i)).boxed().toList();
    assertEquals(total, shares.stream().mapToInt(Integer::intValue).sum(), "sum of " + shares);
    int max = shares.stream().mapToInt(Integer::intValue).max().orElseThrow();
    int min = shares.stream().mapToInt(Integer::intValue).min().orElseThrow();
    assertEquals(true, max - min <= 1, "spread of " + shares);
  }

  @Test
  void totalsSumCountersAndBudgetsAndAgreeOnHealthOnlyWhenEveryoneDoes() {
    JsonObject a = new JsonObject("""
        {"api": {"endpoints": {"e:1": {"active": 1, "requests": 10, "healthy": true, "closed": {"error": 1}}},
                 "budget": {"share": 4, "used": 2}}}""");
    JsonObject b = new JsonObject("""
        {"api": {"endpoints": {"e:1": {"active": 2, "requests": 5, "healthy": false, "closed": {"error": 2}}},
                 "budget": {"share": 3, "used": 3}}}""");
    JsonObject totals = ClusterTotals.of(List.of(a, b));
    JsonObject endpoint = totals.getJsonObject("api").getJsonObject("endpoints").getJsonObject("e:1");
    assertEquals(3, endpoint.getInteger("active"));
    assertEquals(15, endpoint.getInteger("requests"));
    assertEquals(false, endpoint.getBoolean("healthy"));
    assertEquals(3, endpoint.getJsonObject("closed").getInteger("error"));
    assertEquals(new JsonObject().put("share", 7L).put("used", 5L), totals.getJsonObject("api").getJsonObject("budget"));
  }
}
