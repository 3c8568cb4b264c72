package io.keepgate.upstream;

import io.keepgate.config.Http2PingConfig;
import io.keepgate.internal.Timeout;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP/2 connection to an endpoint, the last handler of its channel (after Netty's frame codec
 * and stream multiplexer). Its pool leases it once per request as a new {@link Http2Stream}, up to
 * the backend's {@code SETTINGS_MAX_CONCURRENT_STREAMS}. It is ready once the backend's first
 * SETTINGS frame arrived; a GOAWAY stops new streams (the ones the backend did not process go
 * elsewhere, the others finish) and it closes when its last stream ends. With {@code http2Ping} on,
 * it sends a PING every interval and closes as {@code ping_timeout} when one goes unanswered.
 *
 * <p>Threading: confined to its channel's event loop, which is also its pool's.
 */
final class Http2Connection extends PooledConnection {
  private static final Logger log = LoggerFactory.getLogger(Http2Connection.class);
  /** Streams assumed per connection being opened, before its SETTINGS say (RFC 9113 recommends at least 100). */
  static final int ASSUMED_STREAM_LIMIT = 100;
  /** The most streams keepgate opens on one connection, whatever the backend allows: more would only queue there. */
  static final int MAX_STREAM_LIMIT = 1000;

  private final Http2StreamChannelBootstrap streams;
  private final Http2PingConfig ping;
  private final Timeout pingTimer = new Timeout(this::onPingTimer);
  private Runnable onReady;
  private Consumer<String> onSetupFailed;
  private boolean ready;
  private int streamLimit = ASSUMED_STREAM_LIMIT;
  private boolean goingAway;
  private boolean awaitingPingAck;
  private long pingPayload;
  /** Whether it is on its pool's list of connections in use with a free stream. */
  boolean shared;

  Http2Connection(Channel channel, LoopPool pool, long openedAtNanos, Http2PingConfig ping) {
    super(channel, pool, openedAtNanos);
    this.streams = new Http2StreamChannelBootstrap(channel);
    this.ping = ping;
  }

  /** Reports once: ready when the backend's first SETTINGS arrive, else why the connection failed before. */
  void whenReady(Runnable ready, Consumer<String> failed) {
    this.onReady = ready;
    this.onSetupFailed = failed;
  }

  /** Fails the setup if it is not ready yet (the connect timeout passed). */
  void setupTimedOut(String reason) {
    if (!ready && onSetupFailed != null) {
      Consumer<String> failed = onSetupFailed;
      onSetupFailed = null;
      failed.accept(reason);
      channel.close();
    }
  }

  @Override
  UpstreamConnection newLease() {
    Future<Http2StreamChannel> opened = streams.open(); // on the loop: done before it returns
    if (!opened.isSuccess()) {
      return null;
    }
    Http2StreamChannel child = opened.getNow();
    Http2Stream stream = new Http2Stream(child, this, pool.loop().now());
    child.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false), stream);
    return stream;
  }

  @Override
  boolean takesMoreLeases() {
    return inUse < streamLimit && !goingAway && !closing() && channel.isActive();
  }

  boolean goingAway() {
    return goingAway;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (msg instanceof Http2SettingsFrame settings) {
        Long limit = settings.settings().maxConcurrentStreams();
        streamLimit = limit == null ? MAX_STREAM_LIMIT : (int) Math.min(limit, MAX_STREAM_LIMIT);
        if (!ready) {
          becameReady();
        } else {
          pool.onStreamLimitChanged(this);
        }
      } else if (msg instanceof Http2PingFrame frame && frame.ack()) {
        onPingAck(frame.content());
      } else if (msg instanceof Http2GoAwayFrame goAway) {
        onGoAway(goAway);
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void becameReady() {
    ready = true;
    onSetupFailed = null;
    armPing(ping.interval());
    Runnable report = onReady;
    onReady = null;
    report.run();
  }

  private void onGoAway(Http2GoAwayFrame goAway) {
    goingAway = true;
    Http2Error error = Http2Error.valueOf(goAway.errorCode());
    if (error != Http2Error.NO_ERROR) {
      log.info("GOAWAY {} from upstream {}: {}", error == null ? goAway.errorCode() : error.name().toLowerCase(Locale.ROOT),
          pool.endpoint(), goAway.content().toString(StandardCharsets.UTF_8));
    }
    if (ready) {
      pool.onGoAway(this);
    }
  }

  private void armPing(Duration after) {
    if (ping.enabled()) {
      pool.loop().timers().list(after).arm(pingTimer, pool.loop().now());
    }
  }

  /** The interval passed (send a PING), or the acknowledgement is overdue (the connection is dead). */
  private void onPingTimer() {
    if (closing() || !channel.isActive()) {
      return;
    }
    if (awaitingPingAck) {
      failure = new IllegalStateException("HTTP/2 PING unanswered for " + ping.timeout().toMillis() + " ms");
      close(CloseReason.PING_TIMEOUT);
      return;
    }
    awaitingPingAck = true;
    channel.writeAndFlush(new DefaultHttp2PingFrame(++pingPayload), channel.voidPromise());
    armPing(ping.timeout());
  }

  private void onPingAck(long payload) {
    if (awaitingPingAck && payload == pingPayload) {
      awaitingPingAck = false;
      armPing(ping.interval());
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    pingTimer.cancel();
    if (!ready) {
      setupTimedOut("connection closed before the backend's HTTP/2 SETTINGS (does it speak HTTP/2?)");
      return;
    }
    pool.onClosed(this);
  }
}
