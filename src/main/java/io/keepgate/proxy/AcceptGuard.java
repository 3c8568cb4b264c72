package io.keepgate.proxy;

import io.keepgate.internal.Ticker;
import io.keepgate.metrics.GatewayMetrics;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Handles a failed accept on a proxy listener (out of file descriptors, out of memory for a
 * socket): counted, logged at most once per {@link #LOG_EVERY_NANOS}, and the listener pauses
 * accepting for {@link #PAUSE_MILLIS}, since with level-triggered epoll the pending connection would
 * otherwise fail again at once, in a loop. Netty's own handling logs a stack trace each time.
 *
 * <p>Threading: one instance shared by every listener; each listener's events arrive on its loop.
 */
@ChannelHandler.Sharable
final class AcceptGuard extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(AcceptGuard.class);
  static final long PAUSE_MILLIS = 100;
  static final long LOG_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);

  private final GatewayMetrics metrics;
  /** The log's clock; tests hand it the embedded loop's, so one virtual clock drives the log and the pause. */
  private final Ticker ticker;
  private final AtomicLong lastLog;

  AcceptGuard(GatewayMetrics metrics, Ticker ticker) {
    this.metrics = metrics;
    this.ticker = ticker;
    this.lastLog = new AtomicLong(ticker.nanoTime() - LOG_EVERY_NANOS);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    metrics.acceptFailed();
    long now = ticker.nanoTime();
    long last = lastLog.get();
    if (now - last >= LOG_EVERY_NANOS && lastLog.compareAndSet(last, now)) {
      log.warn("proxy listener {} could not accept a connection ({}); pausing accepts for {} ms; counted in "
          + "keepgate_accept_failures_total, logged at most every 10 s", ctx.channel().localAddress(), cause.toString(),
          PAUSE_MILLIS);
    }
    if (ctx.channel().config().isAutoRead()) {
      ctx.channel().config().setAutoRead(false);
      ctx.executor().schedule(() -> ctx.channel().config().setAutoRead(true), PAUSE_MILLIS, TimeUnit.MILLISECONDS);
    }
  }
}
