package io.keepgate.upstream;

import io.keepgate.http1.ResponseDecoder;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpObject;
import io.netty.util.ReferenceCountUtil;

/**
 * What an exchange leases from a pool: one HTTP/1.1 connection to an endpoint (the last handler of
 * its channel's pipeline, and its own pool bookkeeping), or, in {@link Http2Stream}, one stream of an
 * HTTP/2 connection. While leased it hands every decoded response object to its {@link Listener}
 * (the exchange); while idle any byte from the backend, or its close, ends it.
 *
 * <p>Threading: confined to the channel's event loop, which is also its pool's and its exchange's.
 */
public class UpstreamConnection extends PooledConnection {

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

  private final ResponseDecoder decoder;
  Listener listener;
  boolean reading;

  UpstreamConnection(Channel channel, ResponseDecoder decoder, LoopPool pool, long openedAtNanos) {
    super(channel, pool, openedAtNanos);
    this.decoder = decoder;
  }

  @Override
  UpstreamConnection newLease() {
    return this;
  }

  /** Sets up the decoder for the response to the request about to be written. */
  public void expectResponse(boolean toHead) {
    decoder.expectResponse(toHead);
  }

  /** Whether any response byte arrived since {@link #expectResponse}: after one, nothing is retried. */
  public boolean responseBytesArrived() {
    return decoder.bytesArrived();
  }

  /**
   * Whether the backend said it never processed the request (an HTTP/2 stream above a GOAWAY's
   * last stream id, or refused): it may go again whatever its method.
   */
  public boolean unprocessed() {
    return false;
  }

  /**
   * Whether the connection carried earlier requests or was opened ahead of them by a warm hand-off
   * (a pool hit) rather than being opened for this one.
   */
  public boolean reused() {
    return requestsServed > 1 || openedAhead;
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

  /** Whether an exchange holds it; the pool takes it back once. */
  boolean leased() {
    return state == State.LEASED;
  }

  /** The connection it is a lease of: itself, or for an HTTP/2 stream its connection. */
  PooledConnection carrier() {
    return this;
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
