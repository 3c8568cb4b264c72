package io.keepgate.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Cuts off a client that takes longer than {@code server.headerReadTimeoutMs} to deliver a request
 * head (slowloris): the clock starts with the first byte of a head and stops when the decoder has
 * the whole head. The client idle timeout cannot do this, since a trickle of bytes resets it.
 *
 * <p>Threading: one {@link HeadClock} per connection, confined to that connection's event loop
 * (Netty calls both pipeline handlers and the scheduled task there).
 */
final class HeaderReadTimeout {
  private static final byte[] REQUEST_TIMEOUT = ("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
      + "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 29\r\n\r\nrequest head read timed out.\n")
      .getBytes(StandardCharsets.US_ASCII);

  private final long timeoutNanos;

  HeaderReadTimeout(Duration timeout) {
    this.timeoutNanos = timeout.toNanos();
  }

  /** Starts a clock for this connection: raw bytes in front of the HTTP decoder, decoded heads after it. */
  void install(ChannelPipeline pipeline) {
    HeadClock clock = new HeadClock();
    pipeline.addFirst("keepgate-head-bytes", clock.onBytes);
    pipeline.addAfter(ClientConnectionSetup.DECODER, "keepgate-head-decoded", clock.onDecoded);
  }

  /**
   * The clock of one connection. A head that arrives whole in one read (the usual case) never
   * schedules a timer: the first byte's time is noted, and a timer is armed only when a read
   * completes with the head still incomplete.
   */
  private final class HeadClock {
    private boolean awaitingHead = true;
    private long headStartNanos = -1;
    private ScheduledFuture<?> timer;

    final ChannelInboundHandlerAdapter onBytes = new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (awaitingHead && headStartNanos < 0 && msg instanceof ByteBuf) {
          headStartNanos = System.nanoTime();
        }
        ctx.fireChannelRead(msg);
      }

      @Override
      public void channelReadComplete(ChannelHandlerContext ctx) {
        if (awaitingHead && headStartNanos >= 0 && timer == null) {
          long remaining = timeoutNanos - (System.nanoTime() - headStartNanos);
          timer = ctx.executor().schedule(() -> expire(ctx), Math.max(0, remaining), TimeUnit.NANOSECONDS);
        }
        ctx.fireChannelReadComplete();
      }

      @Override
      public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
      }
    };

    final ChannelInboundHandlerAdapter onDecoded = new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest) {
          awaitingHead = false;
          headStartNanos = -1;
          cancel();
        }
        if (msg instanceof LastHttpContent) {
          awaitingHead = true;
        }
        ctx.fireChannelRead(msg);
      }
    };

    private void expire(ChannelHandlerContext ctx) {
      timer = null;
      if (awaitingHead) {
        ctx.writeAndFlush(Unpooled.wrappedBuffer(REQUEST_TIMEOUT)).addListener(ChannelFutureListener.CLOSE);
      }
    }

    private void cancel() {
      if (timer != null) {
        timer.cancel(false);
        timer = null;
      }
    }
  }
}
