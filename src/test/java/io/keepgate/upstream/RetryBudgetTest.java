package io.keepgate.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.keepgate.config.RetryBudgetConfig;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The retry budget's arithmetic on a virtual clock: one node's part, then two nodes sharing one budget. */
class RetryBudgetTest {
  private long now = 1_000_000_000L;

  private RetryBudget budget(int percent, int minPerSecond, int members) {
    return new RetryBudget(new RetryBudgetConfig(true, percent, minPerSecond), () -> now, members);
  }

  private void advanceSeconds(double seconds) {
    now += (long) (seconds * TimeUnit.SECONDS.toNanos(1));
  }

  /** {@code count} requests routed to the upstream. */
  private static void requests(RetryBudget budget, int count) {
    for (int i = 0; i < count; i++) {
      budget.countRequest();
    }
  }

  /** Retries granted while trying {@code wanted} times. */
  private static int retries(RetryBudget budget, int wanted) {
    int granted = 0;
    for (int i = 0; i < wanted; i++) {
      granted += budget.tryRetry() ? 1 : 0;
    }
    return granted;
  }

  @Test
  void aLoneNodeMayRetryPercentOfItsRequestsPlusTheFloor() {
    RetryBudget budget = budget(10, 5, 1);
    assertEquals(5.0, budget.allowancePerSecond(), "before any traffic: the floor");
    budget.rebalance(0, 1);
    advanceSeconds(1);
    requests(budget, 200);
    budget.rebalance(0, 1); // 200 requests/s
    assertEquals(200.0, budget.requestRate(), 1e-9);
    assertEquals(25.0, budget.allowancePerSecond(), 1e-9, "10 % of 200 plus 5");
    assertEquals(5, retries(budget, 100), "what was in the bucket before: the floor's 5");
    for (int second = 0; second < 10; second++) {
      advanceSeconds(1);
      assertEquals(25, retries(budget, 100), "a second's allowance, no more");
    }
  }

  @Test
  void twoNodesShareOneBudgetInProportionToTheirTraffic() {
    RetryBudget a = budget(1, 20, 2);
    RetryBudget b = budget(1, 20, 2);
    a.rebalance(0, 2);
    b.rebalance(0, 2);
    advanceSeconds(1);
    requests(a, 300); // A sends 300/s, B 100/s
    requests(b, 100);
    a.rebalance(100, 2);
    b.rebalance(300, 2);
    assertEquals(3 + 20 * 0.75, a.allowancePerSecond(), 1e-9);
    assertEquals(1 + 20 * 0.25, b.allowancePerSecond(), 1e-9);
    assertEquals(24.0, a.allowancePerSecond() + b.allowancePerSecond(), 1e-9,
        "1 % of the cluster's 400/s plus one floor of 20; two separate budgets would allow 44");
    int granted = 0;
    for (int second = 0; second < 10; second++) {
      advanceSeconds(1);
      granted += retries(a, 1000) + retries(b, 1000);
    }
    assertEquals(240, granted, "24/s over 10 s: the buckets were full when the rates came in");
  }

  @Test
  void withNoTrafficAnywhereTheFloorIsSplitEvenly() {
    RetryBudget budget = budget(20, 9, 3);
    budget.rebalance(0, 3);
    advanceSeconds(1);
    budget.rebalance(0, 3);
    assertEquals(3.0, budget.allowancePerSecond(), 1e-9);
  }

  @Test
  void offItAlwaysAllows() {
    RetryBudget budget = new RetryBudget(RetryBudgetConfig.DEFAULT, () -> now, 1);
    assertFalse(budget.enabled());
    assertEquals(1000, retries(budget, 1000));
  }
}
