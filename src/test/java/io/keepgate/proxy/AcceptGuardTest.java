package io.keepgate.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.keepgate.metrics.GatewayMetrics;
import io.keepgate.metrics.MetricNames;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * A listener that cannot accept (EMFILE): every failure counted, one log line per 10 s, accepts
 * paused for 100 ms and then resumed. An embedded channel stands in for the listener; one virtual
 * clock drives both the guard's log and the loop's timer.
 */
class AcceptGuardTest {
  private final MockTicker time = Ticker.newMockTicker();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private final Logger logger = (Logger) LoggerFactory.getLogger(AcceptGuard.class);
  private Level levelBefore;
  private EmbeddedChannel listener;

  @BeforeEach
  void setUp() {
    levelBefore = logger.getLevel();
    logger.setLevel(Level.WARN); // whatever KEEPGATE_LOG_LEVEL says: the log line is the feature here
    logged.start();
    logger.addAppender(logged);
    listener = EmbeddedChannel.builder().ticker(time)
        .handlers(new AcceptGuard(new GatewayMetrics(registry), time::nanoTime)).build();
  }

  @AfterEach
  void tearDown() {
    logger.detachAppender(logged);
    logger.setLevel(levelBefore);
    listener.finishAndReleaseAll();
  }

  private void acceptFails() {
    listener.pipeline().fireExceptionCaught(new IOException("accept(..) failed: Too many open files"));
  }

  private double failures() {
    return registry.get(MetricNames.ACCEPT_FAILURES).counter().count();
  }

  private boolean accepting() {
    return listener.config().isAutoRead();
  }

  /** Moves the virtual clock on and runs the timers now due. */
  private void advance(long millis) {
    time.advance(millis, TimeUnit.MILLISECONDS);
    listener.runScheduledPendingTasks();
  }

  @Test
  void aBurstOfAcceptFailuresIsCountedEachLoggedOncePausesAcceptsThenResumesThem() {
    assertTrue(accepting());
    for (int i = 0; i < 5; i++) {
      acceptFails();
    }

    assertEquals(5.0, failures(), "every failure counted");
    assertEquals(1, logged.list.size(), "one line for the burst: " + logged.list);
    assertTrue(logged.list.get(0).getFormattedMessage().contains("keepgate_accept_failures_total"),
        "the line points at the counter: " + logged.list.get(0).getFormattedMessage());
    assertFalse(accepting(), "accepts paused: the pending connection would fail again at once");

    advance(AcceptGuard.PAUSE_MILLIS - 1);
    assertFalse(accepting(), "still paused 1 ms before the pause ends");
    advance(1);
    assertTrue(accepting(), "resumed after " + AcceptGuard.PAUSE_MILLIS + " ms");
    assertEquals(-1, listener.runScheduledPendingTasks(), "no timer left behind once resumed");
  }

  @Test
  void failuresAfterAResumeArePausedAgainButLoggedOnlyOncePerTenSeconds() {
    long logEveryMillis = TimeUnit.NANOSECONDS.toMillis(AcceptGuard.LOG_EVERY_NANOS);
    acceptFails();
    advance(AcceptGuard.PAUSE_MILLIS);
    assertTrue(accepting());

    advance(logEveryMillis - AcceptGuard.PAUSE_MILLIS - 1); // 1 ms short of 10 s since the line
    acceptFails();
    assertFalse(accepting(), "each failure after a resume pauses again");
    assertEquals(1, logged.list.size(), "within 10 s of the line: counted, not logged");

    advance(1);
    acceptFails();
    assertEquals(2, logged.list.size(), "10 s after the first line, the next failure is logged");
    assertEquals(3.0, failures());
    advance(AcceptGuard.PAUSE_MILLIS);
    assertTrue(accepting());
  }
}
