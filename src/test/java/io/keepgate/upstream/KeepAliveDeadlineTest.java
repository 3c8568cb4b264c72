package io.keepgate.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** keepgate closes a connection before the backend's announced Keep-Alive timeout, with a margin. */
class KeepAliveDeadlineTest {
  private static long deadlineMillis(int timeoutSeconds) {
    return TimeUnit.NANOSECONDS.toMillis(KeepAliveHeader.deadline(0, timeoutSeconds));
  }

  @Test
  void theMarginIsAQuarterOfTheTimeoutBetween250MillisAndOneSecond() {
    assertEquals(750, deadlineMillis(1), "timeout=1: the 250 ms floor");
    assertEquals(1500, deadlineMillis(2));
    assertEquals(3000, deadlineMillis(4));
    assertEquals(14_000, deadlineMillis(15), "timeout=15: the 1 s cap");
  }

  @Test
  void noAnnouncedTimeoutMeansNoDeadline() {
    assertEquals(Long.MAX_VALUE, KeepAliveHeader.deadline(0, -1));
  }

  @Test
  void timeoutZeroMeansDoNotPool() {
    assertEquals(true, KeepAliveHeader.deadline(0, 0) <= 0, "closed at once on release");
  }
}
