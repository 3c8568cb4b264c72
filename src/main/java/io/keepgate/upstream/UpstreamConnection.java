package io.keepgate.upstream;

import io.keepgate.http1.ResponseDecoder;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpObject;
import io.netty.util.ReferenceCountUtil;

/**
 * One HTTP/1.1 connection to an endpoint: the last handler of its channel's pipeline, and the
 * bookkeeping its pool needs. While leased it hands every decoded response object to its
 * {@link Listener} (the exchange); while idle any byte from the backend, or its close, ends it.
 *
 * <p>Threading: confined to the channel's event loop, which is also its pool's and its exchange's.
 */
public final class UpstreamConnection extends ChannelInboundHandlerAdapter {

  /** The exchange using the connection. Every call comes on the connection's event loop. */
  public interface Listener {
    /** A decoded response head or body part; ownership passes to the listener. */
    void onResponse(HttpObject message);

    /** The end of a read batch: time to flush what was written to the client. */
    void onUpstreamReadComplete();

    /** The channel's outbound buffer drained below its low watermark. */
    void onUpstreamWritable();

    /** The channel closed under the exchange ({@link #failure()} tells why, when known). */
    void onUpstreamClosed();
  }

  /** Where a connection is in its life. */
  enum State {
    /** In its pool's idle list, ready for a request. */
    IDLE,
    /** Carrying one exchange. */
    LEASED,
    /** Asked to close; still holds its permits until the socket is gone. */
    CLOSING,
    /** The socket is gone and counted. */
    CLOSED
  }

  private final Channel channel;
  private final ResponseDecoder decoder;
  /** Its pool; {@code null} for a dedicated connection (a tunnel) that never joins one. */
  final LoopPool pool;
  final long openedAtNanos;
  /** When it retires by age ({@code maxLifetime} minus jitter); {@code Long.MAX_VALUE} for never. */
  long retireAtNanos = Long.MAX_VALUE;
  long idleSinceNanos;
  /** Closed before this, ahead of the backend's announced {@code Keep-Alive: timeout}. */
  long keepAliveDeadlineNanos = Long.MAX_VALUE;
  int requestsServed;
  State state = State.IDLE;
  private CloseReason closeReason;
  private Throwable failure;
  private Listener listener;
  private boolean reading;

  UpstreamConnection(Channel channel, ResponseDecoder decoder, LoopPool pool, long openedAtNanos) {
    this.channel = channel;
    this.decoder = decoder;
    this.pool = pool;
    this.openedAtNanos = openedAtNanos;
    this.idleSinceNanos = openedAtNanos;
  }

  public Channel channel() {
    return channel;
  }

  /** Sets up the decoder for the response to the request about to be written. */
  public void expectResponse(boolean toHead) {
    decoder.expectResponse(toHead);
  }

  /** Whether any response byte arrived since {@link #expectResponse}: after one, nothing is retried. */
  public boolean responseBytesArrived() {
    return decoder.bytesArrived();
  }

  /** Whether the connection carried earlier requests (a pool hit) rather than being opened for this one. */
  public boolean reused() {
    return requestsServed > 1;
  }

  /** Whether the channel is inside a read batch (writes to the client are flushed at its end). */
  public boolean reading() {
    return reading;
  }

  /** Why it failed, if it did. */
  public Throwable failure() {
    return failure;
  }

  /** The endpoint pool it belongs to; null for a dedicated connection. */
  public LoopPool pool() {
    return pool;
  }

  /** Routes the connection's events to {@code listener} (null: none, while idle). */
  public void bind(Listener listener) {
    this.listener = listener;
  }

  /** Closes it with this reason, unless it is already closing. */
  public void close(CloseReason reason) {
    if (state != State.CLOSING && state != State.CLOSED) {
      closeReason = reason;
      state = State.CLOSING;
      channel.close();
    }
  }

  /** The reason counted for its close: the one it was closed with, else what the socket showed. */
  CloseReason closeReason() {
    if (closeReason != null) {
      return closeReason;
    }
    return failure != null ? CloseReason.ofSocketFailure(failure) : CloseReason.UPSTREAM_CLOSED;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    reading = true;
    Listener current = listener;
    if (current != null) {
      current.onResponse((HttpObject) msg);
    } else {
      // a response nobody asked for (a backend announcing its idle close, or garbage): never reuse it
      ReferenceCountUtil.release(msg);
      close(CloseReason.UPSTREAM_CLOSED);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    reading = false;
    Listener current = listener;
    if (current != null) {
      current.onUpstreamReadComplete();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    Listener current = listener;
    if (current != null && channel.isWritable()) {
      current.onUpstreamWritable();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (failure == null) {
      failure = cause;
    }
    ctx.close();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    reading = false;
    Listener current = listener;
    listener = null;
    if (pool != null) {
      pool.onClosed(this); // counted with the socket's own reason before the exchange reacts
    }
    state = State.CLOSED;
    if (current != null) {
      current.onUpstreamClosed();
    }
  }
}
