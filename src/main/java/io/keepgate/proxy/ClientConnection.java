package io.keepgate.proxy;

import io.keepgate.http2.ExtensionHeaders;
import io.keepgate.http1.RequestDecoder;
import io.keepgate.http1.RequestRefusal;
import io.keepgate.http1.ResponseEncoder;
import io.keepgate.internal.Timeout;
import io.keepgate.internal.TimeoutList;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: the last handler of its pipeline ({@link RequestDecoder},
 * {@link ResponseEncoder}, this). It runs one {@link Exchange} at a time, in order: requests a
 * client pipelines while one is in flight wait here, and reading pauses until they are answered.
 * It owns the connection's timeouts (idle between requests, the head-read clock, a stalled request
 * body, the linger after a refusal), each an entry in its loop's lists rather than a scheduled
 * task, and its read suspension, which several causes may hold at once.
 *
 * <p>HTTP/2 ({@link Http2Frontend}): the connection becomes a session that only counts its
 * streams, for its idle timeout and its drain (a GOAWAY, then the close once its streams end); each
 * stream is a connection of its own, that serves one exchange over HTTP/1 messages and is not
 * counted against the connection limit.
 *
 * <p>Threading: confined to the channel's event loop, like its exchanges and their upstream
 * connections.
 */
final class ClientConnection extends ChannelInboundHandlerAdapter
    implements RequestDecoder.HeadListener, Timeout.Expiry {
  private static final Logger log = LoggerFactory.getLogger(ClientConnection.class);

  /** The answer to a connection over the limit, encoded once. */
  private static final ByteBuf TOO_MANY_CONNECTIONS = Unpooled.unreleasableBuffer(Unpooled.directBuffer().writeBytes(
      ("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 21\r\n"
          + "Connection: close\r\n\r\ntoo many connections\n").getBytes(StandardCharsets.US_ASCII)));

  /** Why reading is suspended; reading resumes when no cause is left. */
  static final int AWAITING_UPSTREAM = 1;
  static final int UPSTREAM_FULL = 2;
  static final int PIPELINED = 4;

  /** What the connection's one timeout currently measures. */
  private enum Clock {
    /** No request in flight: closes the connection after {@code server.idleTimeoutMs}. */
    IDLE,
    /** A request head started: 408 after {@code server.headerReadTimeoutMs}. */
    HEAD,
    /** A request body is arriving: it may not stall longer than {@code server.idleTimeoutMs}. */
    BODY,
    /** Refused and answered: input is discarded for a moment so the client reads the answer. */
    LINGER,
    /** Idle when the drain began, and only just: closes after {@link ProxyLoop#DRAIN_GRACE} unless a request comes. */
    DRAIN_GRACE
  }

  /** Links of the loop's connection list. */
  ClientConnection prev;
  ClientConnection next;

  private final ProxyLoop loop;
  private final Timeout timeout = new Timeout(this);
  private Channel channel;
  private boolean secure;
  private ResponseEncoder encoder;
  private RequestDecoder decoder;
  private Exchange exchange;
  /** Messages of requests pipelined behind the one in flight; created on first use. */
  private ArrayDeque<HttpObject> queued;
  private int suspended;
  private boolean reading;
  private boolean dispatching;
  private boolean closing;
  /** Whether the connection was admitted under the connection limit (and so holds a place in it). */
  private boolean admitted;
  private Clock clock;
  /** When the connection last went idle (loop time, ns), for the drain's grace. */
  private long idleSince;
  private String clientHost;
  /** Set from a PROXY protocol header, else -1: the socket's peer port. */
  private int clientPort = -1;
  /** The HTTP/2 connection this stream is part of; null for a connection itself. */
  private ClientConnection session;
  /** Whether this connection speaks HTTP/2: it carries streams, not requests. */
  private boolean http2;
  /** The list bounding the stall of the request body in flight; null: unbounded (a streaming route). */
  private TimeoutList bodyStallLimit;
  /** Streams open on this HTTP/2 connection. */
  private int openStreams;

  ClientConnection(ProxyLoop loop) {
    this.loop = loop;
  }

  /** Called by the channel initializer with the codec placed before this handler. */
  void init(Channel channel, RequestDecoder decoder, ResponseEncoder encoder, boolean secure) {
    this.secure = secure;
    this.channel = channel;
    this.decoder = decoder;
    this.encoder = encoder;
  }

  /** Called for an HTTP/2 stream's child channel, whose pipeline carries HTTP/1 messages to this handler. */
  void initStream(Channel stream, ClientConnection session) {
    this.channel = stream;
    this.session = session;
    this.secure = session.secure;
  }

  /** The pipeline now speaks HTTP/2: this connection counts its streams and serves none itself. */
  void startHttp2Session() {
    http2 = true;
    decoder = null;
    encoder = null;
    if (clock == Clock.HEAD) {
      startClock(Clock.IDLE); // the preface is in: idle until the first stream
    }
  }

  private void streamOpened() {
    if (openStreams++ == 0 && (clock == Clock.IDLE || clock == Clock.DRAIN_GRACE)) {
      timeout.cancel(); // busy: the idle clock runs again when the last stream ends
      clock = null;
    }
  }

  private void streamClosed() {
    if (--openStreams == 0 && !closing && channel.isActive()) {
      if (loop.draining()) {
        close(false);
      } else {
        startClock(Clock.IDLE);
      }
    }
  }

  Channel channel() {
    return channel;
  }

  /** The next final response answers a HEAD request (or not): over HTTP/1.1 its encoder must know. */
  void answeringHead(boolean head) {
    if (encoder != null) {
      encoder.answeringHead(head);
    }
  }

  ProxyLoop loop() {
    return loop;
  }

  /** Whether the channel is inside a read batch: upstream writes are flushed at its end. */
  boolean reading() {
    return reading;
  }

  /** The client's port, for the access log: the PROXY header's source port when one was accepted. */
  int clientPort() {
    if (session != null) {
      return session.clientPort();
    }
    if (clientPort >= 0) {
      return clientPort;
    }
    return channel.remoteAddress() instanceof InetSocketAddress address ? address.getPort() : 0;
  }

  /** The real client behind a trusted load balancer, from its PROXY protocol header. */
  void proxiedClient(String host, int port) {
    clientHost = host;
    clientPort = port;
  }

  /** Whether this is one stream of an HTTP/2 connection (its end is a stream's end, not a close). */
  boolean isStream() {
    return session != null;
  }

  /** Whether the client came in on the TLS listener. */
  boolean secure() {
    return secure;
  }

  /** The scheme the client used: {@code https} on the TLS listener. */
  String scheme() {
    return secure ? "https" : "http";
  }

  /** The client's IP address, for X-Forwarded-For and the access log (the PROXY header's source when accepted). */
  String clientHost() {
    if (session != null) {
      return session.clientHost();
    }
    if (clientHost == null) {
      clientHost = channel.remoteAddress() instanceof InetSocketAddress address
          ? address.getAddress().getHostAddress() : String.valueOf(channel.remoteAddress());
    }
    return clientHost;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    if (session != null) {
      session.streamOpened(); // a stream: its connection was admitted and is counted
      ctx.fireChannelActive();
      return;
    }
    ConnectionLimit.Refusal refusal = loop.context.limit().tryOpen();
    if (refusal != null) {
      refuseConnection(refusal);
      return;
    }
    admitted = true;
    loop.add(this);
    loop.context.metrics().clientConnectionOpened();
    startClock(loop.draining() ? Clock.DRAIN_GRACE : Clock.IDLE); // accepted as the listener closed
    ctx.fireChannelActive();
  }

  /** Over the connection limit: a 503, written past the codec, and the connection closes. Nothing is held for it. */
  private void refuseConnection(ConnectionLimit.Refusal refusal) {
    closing = true;
    loop.context.metrics().clientConnectionRefused(refusal.label);
    channel.pipeline().firstContext().writeAndFlush(TOO_MANY_CONNECTIONS.duplicate())
        .addListener(ChannelFutureListener.CLOSE);
  }

  /** The channel closed: it leaves the loop's list, the gauge and the limit. Called once, here or by its tunnel. */
  void onChannelClosed() {
    if (admitted) {
      admitted = false;
      loop.remove(this);
      loop.context.metrics().clientConnectionClosed();
      loop.context.limit().release();
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    reading = true;
    if (http2) {
      ReferenceCountUtil.release(msg); // connection-level frames the stream multiplexer passes on
    } else if (closing) {
      ReferenceCountUtil.release(msg); // refused or closing: nothing more is served
    } else if (queued != null && !queued.isEmpty()) {
      queued.add((HttpObject) msg); // keep order behind what waits already
    } else if (session != null && msg instanceof FullHttpRequest full) {
      // a stream whose HEADERS ended it: a head, then its (empty) end, as the HTTP/1.1 decoder gives them
      ExtensionHeaders.strip(full.headers());
      handle(new DefaultHttpRequest(full.protocolVersion(), full.method(), full.uri(), full.headers()));
      handle(new DefaultLastHttpContent(full.content(), full.trailingHeaders()));
    } else {
      if (session != null && msg instanceof HttpRequest request) {
        ExtensionHeaders.strip(request.headers());
      }
      handle((HttpObject) msg);
    }
  }

  private void handle(HttpObject msg) {
    if (msg instanceof HttpRequest request) {
      if (exchange != null) {
        enqueue(request);
        return;
      }
      timeout.cancel();
      if (request.decoderResult().isFailure()) {
        refuse(refusal(request.decoderResult().cause()));
        return;
      }
      exchange = new Exchange(this, request);
      dispatching = true;
      try {
        exchange.start();
      } finally {
        dispatching = false;
      }
    } else if (exchange != null && msg instanceof HttpContent content) {
      exchange.onRequestContent(content);
    } else {
      ReferenceCountUtil.release(msg);
    }
  }

  private void enqueue(HttpObject msg) {
    if (queued == null) {
      queued = new ArrayDeque<>(4);
    }
    queued.add(msg);
    suspend(PIPELINED);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    reading = false;
    if (exchange != null) {
      exchange.onClientReadComplete();
      if (clock == Clock.BODY) {
        startClock(Clock.BODY); // the body is still moving
      }
    }
    ctx.fireChannelReadComplete();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (exchange != null && channel.isWritable()) {
      exchange.onClientWritable();
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (session != null) {
      session.streamClosed();
    }
    onChannelClosed();
    timeout.cancel();
    releaseQueued();
    Exchange current = exchange;
    exchange = null;
    if (current != null) {
      current.onClientClosed();
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (http2) {
      return; // the frame codec answered it already (a GOAWAY with its error code, then the close)
    }
    if (!(cause instanceof IOException) && log.isDebugEnabled()) {
      log.debug("{} client connection failed", channel, cause);
    }
    channel.close();
  }

  @Override
  public void onHeadStarted() {
    if (exchange == null && !closing) {
      startClock(Clock.HEAD);
    }
  }

  /**
   * The request in flight sends a body: a stall in it is bounded by {@code stallLimit} (the idle
   * timeout, or a streaming route's own), or by nothing when it is null.
   */
  void bodyStarted(TimeoutList stallLimit) {
    bodyStallLimit = stallLimit;
    startClock(Clock.BODY);
  }

  /** The request in flight is read in full: its stall clock stops (a slow response is the upstream's business). */
  void bodyEnded() {
    if (clock == Clock.BODY) {
      timeout.cancel();
      clock = null;
    }
  }

  private void startClock(Clock kind) {
    clock = kind;
    long now = loop.loop.now();
    switch (kind) {
      case IDLE -> {
        idleSince = now;
        loop.idleTimeouts.arm(timeout, now);
      }
      case BODY -> {
        if (bodyStallLimit != null) {
          bodyStallLimit.arm(timeout, now);
        }
      }
      case HEAD -> loop.headTimeouts.arm(timeout, now);
      case LINGER -> loop.lingerTimeouts.arm(timeout, now);
      case DRAIN_GRACE -> loop.drainGraceTimeouts.arm(timeout, now);
    }
  }

  /** The connection's one timeout expired: what that means depends on the clock it ran. */
  @Override
  public void expired() {
    switch (clock) {
      case IDLE, LINGER -> channel.close();
      case DRAIN_GRACE -> close(true);
      case HEAD -> refuse(new RequestRefusal(408, "request head read timed out"));
      case BODY -> {
        if (exchange != null) {
          exchange.onClientStalled();
        }
      }
    }
  }

  /** Suspends reading for {@code cause} (one of the constants above). */
  void suspend(int cause) {
    if (suspended == 0) {
      channel.config().setAutoRead(false);
    }
    suspended |= cause;
  }

  /** Lifts {@code cause}; reading resumes when no cause is left. */
  void resume(int cause) {
    if (suspended != 0) {
      suspended &= ~cause;
      if (suspended == 0) {
        channel.config().setAutoRead(true);
      }
    }
  }

  /** Writes a message to the client without flushing it. */
  void write(Object message) {
    channel.write(message, channel.voidPromise());
  }

  void flush() {
    channel.flush();
  }

  /**
   * The exchange in flight ended; the connection serves the next request unless it must close.
   *
   * @param requestRead whether the client's request was read in full (if not, the client may still be sending)
   */
  void onExchangeDone(boolean keepAlive, boolean requestRead) {
    exchange = null;
    if (session != null) {
      // a stream serves one exchange and ends with its response
      channel.flush();
      if (!requestRead) {
        // what the client still sends is read and dropped (its window flows again) for a moment,
        // then the stream is reset, as an HTTP/1.1 connection lingers
        closing = true;
        suspended = 0;
        channel.config().setAutoRead(true);
        startClock(Clock.LINGER);
      }
      return;
    }
    if (!keepAlive || loop.draining()) {
      // a client still sending (a body, pipelined requests) must read the answer before the close
      boolean mayStillSend = !requestRead || loop.draining() || (queued != null && !queued.isEmpty())
          || decoder.hasBufferedBytes();
      close(mayStillSend);
      return;
    }
    if (!dispatching) {
      serveQueued();
    }
    if (exchange == null && !closing) {
      startClock(Clock.IDLE);
    }
  }

  /** Serves pipelined requests in order until one is in flight; reading resumes once none is left. */
  private void serveQueued() {
    while (queued != null && !queued.isEmpty() && !closing) {
      if (exchange != null && queued.peek() instanceof HttpRequest) {
        return; // that one waits for the exchange in flight
      }
      handle(queued.poll());
    }
    resume(PIPELINED);
  }

  /**
   * The gateway drains: a busy connection (a request in flight or its head arriving) closes after
   * its response, an idle one now, unless it went idle within {@link ProxyLoop#DRAIN_GRACE}: its
   * client may be sending the next request.
   */
  void onDrain() {
    if (http2) {
      // a GOAWAY: the client opens no new stream here; the connection closes once the open ones end
      channel.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR));
      if (openStreams == 0) {
        close(false);
      }
      return;
    }
    if (exchange != null || closing || clock == Clock.HEAD) {
      return; // a request in flight or arriving is answered, with Connection: close
    }
    if (clock == Clock.IDLE && loop.loop.now() - idleSince < ProxyLoop.DRAIN_GRACE.toNanos()) {
      startClock(Clock.DRAIN_GRACE);
    } else {
      close(true); // lingering: a request already on its way reads the close, not a reset
    }
  }

  /** A request refused before it reached routing: the error, then the connection closes. */
  private void refuse(RequestRefusal refusal) {
    answeringHead(false);
    respondAndClose(ErrorResponses.of(refusal.status(), refusal.getMessage(), true));
  }

  /** Sends a complete response to a refused request, then closes, lingering: the client may still be sending. */
  void respondAndClose(FullHttpResponse response) {
    write(response);
    close(true);
  }

  /**
   * Closes once everything written so far is on the wire. With {@code linger}, output closes first
   * and input a moment later (what still arrives is discarded), so that a client still sending
   * reads the answer instead of a reset, which closing a socket with unread input would send.
   */
  private void close(boolean linger) {
    if (closing) {
      return;
    }
    closing = true;
    timeout.cancel();
    releaseQueued();
    if (!linger) {
      channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      return;
    }
    channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) f -> {
      if (f.isSuccess() && channel instanceof DuplexChannel duplex && channel.isActive()) {
        duplex.shutdownOutput();
        suspended = 0;
        channel.config().setAutoRead(true);
        startClock(Clock.LINGER);
      } else {
        channel.close();
      }
    });
  }

  private void releaseQueued() {
    if (queued != null) {
      queued.forEach(ReferenceCountUtil::release);
      queued.clear();
    }
  }

  private static RequestRefusal refusal(Throwable cause) {
    return cause instanceof RequestRefusal refusal ? refusal : new RequestRefusal(400, "malformed request");
  }
}
