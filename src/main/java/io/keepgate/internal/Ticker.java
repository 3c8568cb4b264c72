package io.keepgate.internal;

/**
 * Where pool and timer code reads the time, so that unit tests can drive it by hand.
 *
 * <p>Threading: implementations are safe from any thread.
 */
@FunctionalInterface
public interface Ticker {
  /** The JVM's monotonic clock. */
  Ticker SYSTEM = System::nanoTime;

  /** Monotonic nanoseconds, comparable only with other readings of the same ticker. */
  long nanoTime();
}
