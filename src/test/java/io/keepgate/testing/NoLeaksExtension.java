package io.keepgate.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty reported a leaked buffer while it ran. Registered for every test
 * by service loading. Netty notices a leak only when the leaked buffer is collected and another
 * buffer is tracked, so this collects garbage and allocates a few buffers before it looks.
 */
public final class NoLeaksExtension implements AfterAllCallback {

  /** A full collection, waited for by watching a sentinel's weak reference get enqueued (bounded). */
  private static void collectGarbage() throws InterruptedException {
    ReferenceQueue<Object> queue = new ReferenceQueue<>();
    WeakReference<Object> sentinel = new WeakReference<>(new Object(), queue);
    System.gc();
    queue.remove(2000);
    sentinel.clear();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    for (int round = 0; round < 3; round++) {
      collectGarbage();
      List<ByteBuf> probes = new ArrayList<>();
      for (int i = 0; i < 64; i++) {
        probes.add(ByteBufAllocator.DEFAULT.directBuffer(64));
        probes.add(ByteBufAllocator.DEFAULT.heapBuffer(64));
      }
      probes.forEach(ByteBuf::release);
    }
    if (!LeakRecordingDetector.LEAKS.isEmpty()) {
      List<String> leaks = List.copyOf(LeakRecordingDetector.LEAKS);
      LeakRecordingDetector.LEAKS.clear();
      throw new AssertionError(leaks.size() + " Netty buffer leak(s) while " + context.getDisplayName() + " ran:\n"
          + String.join("\n", leaks));
    }
  }
}
