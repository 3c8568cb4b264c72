package io.keepgate.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Timeouts of one duration expire in arming order, at their deadline and not before; re-arming and cancelling are exact. */
class TimeoutListTest {
  private final List<String> fired = new ArrayList<>();
  private final TimeoutList list = new TimeoutList(1000);

  private Timeout timeout(String name) {
    return new Timeout(() -> fired.add(name));
  }

  @Test
  void timeoutsExpireAtTheirDeadlineInArmingOrder() {
    Timeout a = timeout("a");
    Timeout b = timeout("b");
    list.arm(a, 0);
    list.arm(b, 10);
    list.expire(999);
    assertEquals(List.of(), fired);
    list.expire(1000);
    assertEquals(List.of("a"), fired, "a at its deadline, b not yet");
    list.expire(5000);
    assertEquals(List.of("a", "b"), fired);
    assertFalse(a.armed());
    assertEquals(0, list.size());
  }

  @Test
  void reArmingMovesATimeoutToItsNewDeadline() {
    Timeout a = timeout("a");
    Timeout b = timeout("b");
    list.arm(a, 0);
    list.arm(b, 10);
    list.arm(a, 500); // activity: a's clock restarts
    list.expire(1010);
    assertEquals(List.of("b"), fired);
    list.expire(1500);
    assertEquals(List.of("b", "a"), fired);
  }

  @Test
  void aCancelledTimeoutNeverFiresAndCanBeArmedAgain() {
    Timeout a = timeout("a");
    Timeout b = timeout("b");
    list.arm(a, 0);
    list.arm(b, 0);
    a.cancel();
    a.cancel(); // twice is harmless
    list.expire(2000);
    assertEquals(List.of("b"), fired);
    list.arm(a, 2000);
    assertTrue(a.armed());
    list.expire(3000);
    assertEquals(List.of("b", "a"), fired);
  }

  @Test
  void aLoopTickExpiresEveryListAndSweeps() {
    long[] now = {0};
    LoopTimers timers = new LoopTimers(() -> now[0]);
    List<Long> sweeps = new ArrayList<>();
    timers.addSweeper(sweeps::add);
    timers.list(Duration.ofSeconds(1)).arm(timeout("one second"), 0);
    timers.list(Duration.ofMillis(10)).arm(timeout("ten ms"), 0);
    timers.tick(10_000_000);
    assertEquals(List.of("ten ms"), fired);
    timers.tick(1_000_000_000);
    assertEquals(List.of("ten ms", "one second"), fired);
    assertEquals(List.of(10_000_000L, 1_000_000_000L), sweeps);
    assertTrue(timers.list(Duration.ofSeconds(1)) == timers.list(Duration.ofMillis(1000)),
        "one list per duration, shared");
  }
}
