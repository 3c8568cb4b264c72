package io.keepgate.internal;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Every timeout of one event loop: one {@link TimeoutList} per duration, plus sweepers (pools
 * that expire their idle connections), all driven by a single periodic tick on the loop. A
 * timeout fires within one {@link #TICK} after its deadline.
 *
 * <p>Threading: confined to its event loop, except {@link #start} and {@link #stop}.
 */
public final class LoopTimers {
  /** How often the loop looks at its timeouts: the resolution of every timeout keepgate keeps. */
  public static final Duration TICK = Duration.ofMillis(25);

  /** Something that expires state of its own on every tick (a pool closing idle connections). */
  public interface Sweeper {
    void sweep(long nowNanos);
  }

  private final Ticker ticker;
  private final Map<Long, TimeoutList> lists = new HashMap<>();
  private final List<TimeoutList> ordered = new ArrayList<>();
  private final List<Sweeper> sweepers = new ArrayList<>();
  private ScheduledFuture<?> tick;

  public LoopTimers(Ticker ticker) {
    this.ticker = ticker;
  }

  public Ticker ticker() {
    return ticker;
  }

  /** The list for timeouts of this duration, shared by everything on the loop that uses it. */
  public TimeoutList list(Duration duration) {
    return lists.computeIfAbsent(duration.toNanos(), nanos -> {
      TimeoutList list = new TimeoutList(nanos);
      ordered.add(list);
      return list;
    });
  }

  public void addSweeper(Sweeper sweeper) {
    sweepers.add(sweeper);
  }

  public void removeSweeper(Sweeper sweeper) {
    sweepers.remove(sweeper);
  }

  /** Expires everything due at {@code nowNanos}. */
  public void tick(long nowNanos) {
    for (int i = 0; i < ordered.size(); i++) {
      ordered.get(i).expire(nowNanos);
    }
    for (int i = 0; i < sweepers.size(); i++) {
      sweepers.get(i).sweep(nowNanos);
    }
  }

  /** Starts the periodic tick on {@code loop}. */
  public void start(EventLoop loop) {
    long period = TICK.toNanos();
    tick = loop.scheduleAtFixedRate(() -> tick(ticker.nanoTime()), period, period, TimeUnit.NANOSECONDS);
  }

  public void stop() {
    if (tick != null) {
      tick.cancel(false);
    }
  }
}
