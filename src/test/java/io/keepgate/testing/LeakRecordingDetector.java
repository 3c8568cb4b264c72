package io.keepgate.testing;

import io.netty.util.ResourceLeakDetector;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Netty's leak detector, keeping every report so that {@link NoLeaksExtension} can fail the test
 * that caused it (Netty itself only logs). Installed for the whole test JVM by the build
 * ({@code -Dio.netty.customResourceLeakDetector}), at level {@code paranoid}: every buffer is tracked.
 *
 * <p>Threading: reports come from any thread.
 */
public final class LeakRecordingDetector<T> extends ResourceLeakDetector<T> {
  static final List<String> LEAKS = new CopyOnWriteArrayList<>();

  public LeakRecordingDetector(Class<?> resourceType, int samplingInterval) {
    super(resourceType, samplingInterval);
  }

  /** The constructor Netty looks for first; without it, it logs an error before using the one above. */
  public LeakRecordingDetector(Class<?> resourceType, int samplingInterval, long maxActive) {
    this(resourceType, samplingInterval);
  }

  @Override
  protected void reportTracedLeak(String resourceType, String records) {
    LEAKS.add(resourceType + " leaked:" + records);
    super.reportTracedLeak(resourceType, records);
  }

  @Override
  protected void reportUntracedLeak(String resourceType) {
    LEAKS.add(resourceType + " leaked (untraced)");
    super.reportUntracedLeak(resourceType);
  }
}
