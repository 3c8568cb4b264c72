package io.keepgate.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * What a {@link LoopPool} keeps about one connection to its endpoint, whatever it speaks: its age,
 * idleness and retirement, how many leases it has out, and the reason it is counted with when it
 * closes. An HTTP/1.1 connection is its own single lease ({@link UpstreamConnection}); an HTTP/2
 * connection ({@link Http2Connection}) hands out a stream per lease, up to the backend's limit.
 *
 * <p>Threading: confined to the channel's event loop, which is also its pool's.
 */
abstract class PooledConnection extends ChannelInboundHandlerAdapter {

  /** Where a connection is in its life. */
  enum State {
    /** In its pool's idle list, ready for a request. */
    IDLE,
    /** Carrying one exchange, or for HTTP/2 at least one stream. */
    LEASED,
    /** Asked to close; still holds its permits until the socket is gone. */
    CLOSING,
    /** The socket is gone and counted. */
    CLOSED
  }

  final Channel channel;
  /** Its pool; {@code null} for a dedicated connection (a tunnel) that never joins one. */
  final LoopPool pool;
  final long openedAtNanos;
  /** When it retires by age ({@code maxLifetime} minus jitter); {@code Long.MAX_VALUE} for never. */
  long retireAtNanos = Long.MAX_VALUE;
  long idleSinceNanos;
  /** How long it had been idle when last leased: the age a backend close before the response tells. */
  long idleAgeAtLeaseNanos;
  /** Closed before this, ahead of the backend's announced {@code Keep-Alive: timeout}. */
  long keepAliveDeadlineNanos = Long.MAX_VALUE;
  /** Leases granted over its life (requests, or HTTP/2 streams). */
  int requestsServed;
  /** Opened by a warm hand-off ahead of any request: its first lease is a pool hit as much as a later one. */
  boolean openedAhead;
  /** Leases out now: 0 or 1 for HTTP/1.1, open streams for HTTP/2. */
  int inUse;
  State state = State.IDLE;
  private CloseReason closeReason;
  Throwable failure;

  PooledConnection(Channel channel, LoopPool pool, long openedAtNanos) {
    this.channel = channel;
    this.pool = pool;
    this.openedAtNanos = openedAtNanos;
    this.idleSinceNanos = openedAtNanos;
  }

  public Channel channel() {
    return channel;
  }

  /** Leases it out once more: HTTP/1.1 itself, HTTP/2 a new stream; null when it cannot take one now. */
  abstract UpstreamConnection newLease();

  /** Whether it can take another lease beside the ones it has out (an HTTP/2 connection below its stream limit). */
  boolean takesMoreLeases() {
    return false;
  }

  /** Closes it with this reason, unless it is already closing. */
  public void close(CloseReason reason) {
    if (state != State.CLOSING && state != State.CLOSED) {
      closeReason = reason;
      state = State.CLOSING;
      channel.close();
    }
  }

  boolean closing() {
    return state == State.CLOSING || state == State.CLOSED;
  }

  /** The first failure is kept (its close reason and the exchange's 502 tell it); the connection closes. */
  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (failure == null) {
      failure = cause;
    }
    ctx.close();
  }

  /**
   * Whether the backend ended it (EOF, a reset, or a response that said so) rather than keepgate or
   * the kernel's liveness probes: what the backend's keep-alive timeout looks like from here.
   */
  boolean closedByBackend() {
    CloseReason reason = closeReason();
    return reason == CloseReason.UPSTREAM_CLOSED || (closeReason == null && reason == CloseReason.ERROR);
  }

  /** The reason counted for its close: the one it was closed with, else what the socket showed. */
  CloseReason closeReason() {
    if (closeReason != null) {
      return closeReason;
    }
    return failure != null ? CloseReason.ofSocketFailure(failure) : CloseReason.UPSTREAM_CLOSED;
  }
}
