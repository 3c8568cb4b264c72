package io.keepgate.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Bounded waits on conditions: every wait has a deadline, and failing it says what was awaited. */
public final class Await {
  private Await() {}

  /** Polls {@code condition} until true, failing after {@code timeout}. */
  public static void until(String what, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for: " + what);
      }
      Thread.onSpinWait();
      try {
        Thread.sleep(10); // test thread polling, never an event loop
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for: " + what);
      }
    }
  }

  /** Polls until {@code value} equals {@code expected}; the failure names the last value seen. */
  public static <T> void equal(String what, Duration timeout, T expected, Supplier<T> value) {
    long deadline = System.nanoTime() + timeout.toNanos();
    T last = value.get();
    while (!expected.equals(last)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(what + ": expected " + expected + " within " + timeout.toMillis()
            + " ms, last seen " + last);
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for: " + what);
      }
      last = value.get();
    }
  }
}
