package io.keepgate.proxy;

import io.keepgate.http1.RequestDecoder;
import io.keepgate.http1.RequestRefusal;
import io.keepgate.internal.Timeout;
import io.keepgate.internal.TimeoutList;
import io.keepgate.metrics.MetricNames;
import io.keepgate.routing.Route;
import io.keepgate.upstream.CloseReason;
import io.keepgate.upstream.KeepAliveHeader;
import io.keepgate.upstream.LoopPool;
import io.keepgate.upstream.PoolFailure;
import io.keepgate.upstream.UpstreamConnection;
import io.keepgate.upstream.UpstreamEndpoint;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.ArrayDeque;

/**
 * One client request on its way through keepgate: route it, lease an upstream connection on the
 * same event loop, send the decoded request on with its headers edited in place, relay the body
 * both ways as the decoder's own buffers (never copied) with backpressure from the other side's
 * writability, then give the connection back to its pool.
 *
 * <p>Retries: a request whose reused connection closes before any response byte arrived (the
 * keep-alive race) is sent once more on another connection when none of its body went upstream
 * and it is idempotent or has a body (a backend cannot have acted on a request whose body it never
 * got); a non-idempotent request without a body is never sent twice, nor is any request once a
 * body byte went upstream (bodies are not kept). A request an HTTP/2 backend did not process (its
 * stream above a GOAWAY's last stream id, or refused) goes again whatever its method, as long as
 * none of its body was sent. With the upstream's
 * {@code perTryTimeoutMs}, an idempotent request without a body that has no response byte by then
 * goes once more, to another healthy endpoint (NGINX's {@code proxy_next_upstream timeout}, Envoy's
 * per-try timeout). A request whose connect failed goes once to another healthy endpoint (nothing
 * of it reached a backend). Nothing is retried after a response byte arrived, and nothing twice;
 * with the upstream's {@code retryBudget} on, no retry goes beyond the cluster's budget either.
 *
 * <p>Flushes: a write made while the other side's channel is reading is flushed once at the end of
 * that read batch, so a response head and a body read together leave in one {@code writev}.
 *
 * <p>Threading: confined to the client connection's event loop, which is also the loop of its
 * pool and upstream connection.
 */
final class Exchange implements LoopPool.Waiter, UpstreamConnection.Listener, Timeout.Expiry {
  /** How often a request may move to another endpoint because its pool ejected the endpoint. */
  private static final int MAX_REROUTES = 3;
  /**
   * How often a request waiting for a connection may move on because its pool closed (a reload
   * rebuilt the upstream, discovery drained the endpoint): each move is to a newer pool, and a
   * burst of reloads must not turn a waiting request into a 503; the bound only stops a loop.
   */
  private static final int MAX_MOVES = 16;

  /** Where the exchange is. */
  private enum State {
    /** Waiting for an upstream connection. */
    ACQUIRING,
    /** The request head went upstream; no final response head went to the client yet. */
    AWAITING_RESPONSE,
    /** The final response head went to the client; its body follows. */
    RELAYING,
    /** Answered (or abandoned); counted and logged. */
    DONE
  }

  private final ClientConnection client;
  private final ProxyContext context;
  private final HttpRequest request;
  private final long startNanos;
  private final HttpVersion clientVersion;
  private final boolean head;
  private final boolean hasBody;
  private final boolean chunked;
  private final boolean clientKeepAlive;
  private final boolean upgrade;
  /** The Host without its port, and the path without the query: what routes match on. */
  private final String host;
  private final String path;
  private final Timeout responseTimeout = new Timeout(this);

  /** Runs from the request's end until the first response byte, when a per-try timeout applies; created then. */
  private Timeout perTryTimeout;
  /** Runs while the client takes no response bytes; created the first time it falls behind. */
  private Timeout sendTimeout;
  /** How far from writable the client was when the send clock last started. */
  private long clientBehindBytes;
  private State state = State.ACQUIRING;
  private Route route;
  private UpstreamEndpoint endpoint;
  private LoopPool pool;
  private UpstreamConnection upstream;
  private boolean prepared;
  /** Whether the client's request (head and body) was read in full. */
  private boolean requestComplete;
  /** Whether any body byte went upstream: such a request can no longer be sent again. */
  private boolean bodySent;
  /** Body parts that arrived before a connection was leased. */
  private ArrayDeque<HttpContent> held;
  private boolean retried;
  private int reroutes;
  private int moves;
  /** The loop's list for the upstream's silence limit, once looked up for the current pool. */
  private TimeoutList silenceTimeouts;
  /** How often an HTTP/2 backend left the request unprocessed (GOAWAY, REFUSED_STREAM). */
  private int refusals;
  /** Inside an interim (1xx) response, whose end marker follows its head. */
  private boolean interim;
  private boolean interimRelayed;
  private boolean upstreamReusable;
  private int keepAliveTimeoutSeconds = -1;
  private boolean closeClient;
  private boolean clientFlushPending;
  private boolean upstreamFlushPending;
  private boolean reused;
  private int status;
  private long bytesToClient;
  private long upstreamStartNanos = -1;

  Exchange(ClientConnection client, HttpRequest request) {
    this.client = client;
    this.context = client.loop().context;
    this.request = request;
    this.startNanos = client.loop().loop.now();
    this.clientVersion = request.protocolVersion();
    this.head = request.method().equals(HttpMethod.HEAD);
    this.chunked = HttpUtil.isTransferEncodingChunked(request);
    this.hasBody = chunked || HttpUtil.getContentLength(request, 0L) > 0;
    this.clientKeepAlive = HttpUtil.isKeepAlive(request);
    this.upgrade = RequestDecoder.isWebSocketUpgrade(request);
    this.requestComplete = !hasBody;
    String target = request.uri();
    this.path = pathOf(target);
    String hostHeader = request.headers().get(HttpHeaderNames.HOST);
    this.host = hostHeader == null ? "" : hostWithoutPort(hostHeader.trim());
  }

  void start() {
    int httpsPort = client.secure() ? -1 : context.httpsRedirectPort();
    if (httpsPort > 0) {
      redirectToHttps(httpsPort);
      return;
    }
    route = context.routes().get().match(host, path, request.method().name());
    if (route == null) {
      fail(404, "no route matches this request");
      return;
    }
    if (hasBody) {
      client.suspend(ClientConnection.AWAITING_UPSTREAM); // nothing more of the body until a connection can take it
      client.bodyStarted(bodyStallLimit());
    }
    route.upstream().retryBudget().countRequest(); // what the retry budget is a percentage of
    acquire();
  }

  boolean requestComplete() {
    return requestComplete;
  }

  private void acquire() {
    acquire(route.upstream().choose(client.loop().index()));
  }

  private void acquire(UpstreamEndpoint chosen) {
    state = State.ACQUIRING;
    endpoint = chosen;
    silenceTimeouts = null; // a new pool, or a new route after a reload
    if (endpoint == null) {
      fail(503, "no healthy endpoint in upstream " + route.upstream().name());
      return;
    }
    if (upgrade) {
      route.upstream().connectDedicated(endpoint, client.loop().index(), this::onLeased,
          reason -> fail(502, "connect to upstream failed: " + reason));
      return;
    }
    pool = endpoint.pool(client.loop().index());
    pool.acquire(this);
  }

  @Override
  public void onLeased(UpstreamConnection connection) {
    if (state == State.DONE) {
      connection.close(CloseReason.CLIENT_ABORTED); // a tunnel's connection, opened after its client left
      return;
    }
    upstream = connection;
    reused = connection.reused();
    connection.bind(this);
    if (!prepared) {
      prepareRequest();
    }
    state = State.AWAITING_RESPONSE;
    upstreamStartNanos = client.loop().loop.now();
    connection.expectResponse(head);
    writeUpstream(request);
    if (route.streamIdleTimeout() != null && hasBody) {
      armResponseTimeout(); // a stream: the backend's silence counts from its start, whatever the client sends
    }
    if (!hasBody) {
      writeUpstream(LastHttpContent.EMPTY_LAST_CONTENT);
      armResponseTimeout();
      armPerTryTimeout();
    } else if (held != null) {
      HttpContent content;
      while (upstream != null && (content = held.poll()) != null) {
        sendContent(content);
      }
    }
    client.resume(ClientConnection.AWAITING_UPSTREAM);
    flushUpstreamUnlessReading();
  }

  @Override
  public void onPoolFailure(PoolFailure failure) {
    switch (failure.kind()) {
      case UNHEALTHY, CLOSED -> {
        boolean closed = failure.kind() == PoolFailure.Kind.CLOSED;
        if (closed ? moves++ < MAX_MOVES : reroutes++ < MAX_REROUTES) {
          // ejected while we waited, or a reload retired the pool: another endpoint (of the running config) may serve
          if (closed) {
            route = context.routes().get().match(host, path, request.method().name());
            if (route == null) {
              fail(404, "no route matches this request");
              return;
            }
          }
          acquire();
        } else {
          fail(503, failure.getMessage());
        }
      }
      case CONNECT_FAILED -> {
        // nothing reached a backend: the request goes once to another healthy endpoint, if there is one
        UpstreamEndpoint other = retried || upgrade ? null : route.upstream().chooseOther(endpoint, client.loop().index());
        if (other != null && withinRetryBudget()) {
          retried = true;
          endpoint.stats().countRetry();
          acquire(other);
        } else {
          fail(502, failure.getMessage());
        }
      }
      default -> fail(503, failure.getMessage());
    }
  }

  /** Edits the decoded request in place for the upstream hop: once, whatever the retries. */
  private void prepareRequest() {
    HttpHeaders headers = request.headers();
    String upgradeTo = upgrade ? headers.get(HttpHeaderNames.UPGRADE) : null;
    boolean trailersAccepted = headers.containsValue(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS, true);
    HopByHopHeaders.strip(headers);
    if (trailersAccepted && route.upstream().config().protocol().http2()) {
      headers.set(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS); // the one TE HTTP/2 allows: gRPC servers want it
    }
    if (chunked) {
      headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED); // re-chunked on this hop
    }
    if (upgradeTo != null) {
      headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE).set(HttpHeaderNames.UPGRADE, upgradeTo);
    }
    ForwardedHeaders.addToRequest(headers, client.clientHost(), client.scheme());
    ForwardedHeaders.appendVia(headers, clientVersion);
    if (!route.hostRewrite().isEmpty()) {
      headers.set(HttpHeaderNames.HOST, route.hostRewrite());
    } else if (!headers.contains(HttpHeaderNames.HOST)) {
      headers.set(HttpHeaderNames.HOST, endpoint.address().toString()); // an HTTP/1.0 client sent none
    }
    request.setUri(route.upstreamUri(originForm(request.uri())));
    request.setProtocolVersion(HttpVersion.HTTP_1_1);
    prepared = true;
  }

  /** A body part (or the body's end) from the client. */
  void onRequestContent(HttpContent content) {
    if (content.decoderResult().isFailure()) {
      content.release();
      Throwable cause = content.decoderResult().cause();
      onRequestBroken(400, cause instanceof RequestRefusal ? cause.getMessage() : "malformed request body");
      return;
    }
    if (!hasBody || state == State.DONE) {
      content.release(); // the end marker of a bodiless request, or a body nobody waits for any more
      return;
    }
    if (content instanceof LastHttpContent) {
      requestComplete = true;
      client.bodyEnded();
    }
    if (upstream == null) {
      if (held == null) {
        held = new ArrayDeque<>(4);
      }
      held.add(content);
      return;
    }
    sendContent(content);
    flushUpstreamUnlessReading(); // a pipelined request served from the queue, outside a client read
  }

  private void sendContent(HttpContent content) {
    if (content.content().isReadable()) {
      bodySent = true;
    }
    boolean last = content instanceof LastHttpContent;
    writeUpstream(content);
    if (last) {
      armResponseTimeout();
    }
  }

  /** Writes towards the backend; the flush comes once, at the end of the client's read batch or of the call. */
  private void writeUpstream(Object message) {
    Channel channel = upstream.channel();
    channel.write(message, channel.voidPromise());
    upstreamFlushPending = true;
  }

  private void flushUpstreamUnlessReading() {
    if (upstreamFlushPending && upstream != null && !client.reading()) {
      flushUpstream();
    }
  }

  /**
   * Flushes what went upstream, then applies backpressure: writability is judged after the flush,
   * not between a read's writes, or a large read would toggle reading (an epoll_ctl each way) for
   * bytes that were about to leave anyway.
   */
  private void flushUpstream() {
    upstreamFlushPending = false;
    upstream.channel().flush();
    if (!requestComplete && !upstream.channel().isWritable()) {
      client.suspend(ClientConnection.UPSTREAM_FULL);
    }
  }

  /** The client's read batch ended: what it sent upstream leaves now. */
  void onClientReadComplete() {
    if (upstreamFlushPending && upstream != null) {
      flushUpstream();
    }
  }

  @Override
  public void onUpstreamWritable() {
    client.resume(ClientConnection.UPSTREAM_FULL);
  }

  /** The client can take more: reading the upstream resumes. */
  void onClientWritable() {
    if (sendTimeout != null) {
      sendTimeout.cancel();
    }
    if (upstream != null && !upstream.channel().config().isAutoRead()) {
      upstream.channel().config().setAutoRead(true);
    }
  }

  @Override
  public void onResponse(HttpObject message) {
    if (state == State.DONE) {
      ReferenceCountUtil.release(message);
      return;
    }
    if (message.decoderResult().isFailure()) {
      ReferenceCountUtil.release(message);
      onUpstreamBroken("upstream sent a malformed response: " + RequestDecoder.oneLine(
          String.valueOf(message.decoderResult().cause().getMessage())));
      return;
    }
    if (message instanceof HttpResponse response) {
      onResponseHead(response);
      if (message instanceof LastHttpContent whole && state == State.RELAYING) {
        // a whole response in one message (an HTTP/2 HEADERS frame that ended its stream): written whole
        bytesToClient += whole.content().readableBytes();
        onResponseEnd();
      }
      return;
    }
    HttpContent content = (HttpContent) message;
    if (interim) {
      interim = false;
      if (interimRelayed) {
        writeClient(content);
      } else {
        content.release();
      }
      return;
    }
    bytesToClient += content.content().readableBytes();
    if (content instanceof LastHttpContent) {
      client.write(content);
      onResponseEnd();
    } else {
      writeClient(content);
    }
  }

  private void onResponseHead(HttpResponse response) {
    int code = response.status().code();
    if (code < 200) {
      if (code == 101 && upgrade) {
        switchProtocols(response);
      } else if (code == 101) {
        onUpstreamBroken("upstream switched protocols unasked");
      } else {
        interim = !(response instanceof LastHttpContent); // 100, 102, 103: its end marker follows, unless it came whole
        interimRelayed = clientVersion.minorVersion() == 1; // relayed to HTTP/1.1 clients; the final response follows
        if (interimRelayed) {
          HopByHopHeaders.strip(response.headers());
          response.setProtocolVersion(HttpVersion.HTTP_1_1);
          client.answeringHead(false);
          if (client.isStream() && interim) {
            // HTTP/2 sends a 1xx as one HEADERS frame: written whole, its end marker then dropped
            writeClient(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, response.status(), Unpooled.EMPTY_BUFFER,
                response.headers(), EmptyHttpHeaders.INSTANCE));
            interimRelayed = false;
          } else {
            writeClient(response);
          }
        } else if (!interim) {
          ReferenceCountUtil.release(response); // a whole 1xx for an HTTP/1.0 client: dropped
        }
      }
      return;
    }
    status = code;
    HttpHeaders headers = response.headers();
    boolean bodiless = head || code == 204 || code == 304;
    boolean lengthKnown = bodiless || headers.contains(HttpHeaderNames.CONTENT_LENGTH);
    upstreamReusable = HttpUtil.isKeepAlive(response) && (lengthKnown || HttpUtil.isTransferEncodingChunked(response));
    keepAliveTimeoutSeconds = KeepAliveHeader.timeoutSeconds(headers);
    HopByHopHeaders.strip(headers);
    ForwardedHeaders.appendVia(headers, response.protocolVersion());
    closeClient = !clientKeepAlive || !requestComplete || upgrade || client.loop().draining();
    if (!lengthKnown) {
      if (clientVersion.minorVersion() == 1) {
        headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
      } else {
        closeClient = true; // HTTP/1.0 has no chunking: the body ends when the connection does
      }
    }
    if (closeClient) {
      headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    } else if (clientVersion.minorVersion() == 0) {
      headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    }
    response.setProtocolVersion(clientVersion); // an HTTP/1.0 client gets an HTTP/1.0 answer
    client.answeringHead(head);
    state = State.RELAYING;
    writeClient(response);
  }

  private void writeClient(Object message) {
    client.write(message);
    if (upstream != null && upstream.reading() && client.channel().isWritable()) {
      clientFlushPending = true; // one flush per read batch, unless the client is already behind
    } else {
      flushClient();
    }
  }

  /**
   * Flushes what went to the client. A client that cannot keep up stops the upstream's reads until
   * it drains (so it costs at most {@code server.responseBufferBytes} and one read), and starts its
   * send clock.
   */
  private void flushClient() {
    clientFlushPending = false;
    client.flush();
    if (upstream != null && !client.channel().isWritable()) {
      upstream.channel().config().setAutoRead(false);
      if (sendTimeout == null) {
        sendTimeout = new Timeout(this::onSendTimeout);
      }
      if (!sendTimeout.armed()) {
        clientBehindBytes = client.channel().bytesBeforeWritable();
        client.loop().sendTimeouts.arm(sendTimeout, client.loop().loop.now());
      }
    }
  }

  /**
   * {@code server.sendTimeoutMs} passed with the client behind: if it took any bytes meanwhile the
   * clock starts again; if it took none, the exchange is lost (NGINX's {@code send_timeout}) and
   * its upstream connection closed, not pooled: its response is unread.
   */
  private void onSendTimeout() {
    if (state == State.DONE || client.channel().isWritable()) {
      return;
    }
    long behind = client.channel().bytesBeforeWritable();
    if (behind < clientBehindBytes) {
      clientBehindBytes = behind;
      client.loop().sendTimeouts.arm(sendTimeout, client.loop().loop.now());
      return;
    }
    context.metrics().sendTimedOut();
    abandonUpstream();
    truncate();
  }

  @Override
  public void onUpstreamReadComplete() {
    if (clientFlushPending) {
      flushClient();
    }
    if (responseTimeout.armed()) {
      armResponseTimeout(); // bytes keep coming: the timeout measures silence
    }
  }

  /** The response is complete: the connection goes back to its pool before the client reads the last bytes. */
  private void onResponseEnd() {
    responseTimeout.cancel();
    client.flush();
    clientFlushPending = false;
    UpstreamConnection connection = upstream;
    upstream = null;
    if (upstreamReusable && requestComplete && connection.pool() != null) {
      connection.pool().recycle(connection, keepAliveTimeoutSeconds);
    } else {
      // the backend closes it, or it answered before the whole body was sent: its framing is unknown
      release(connection, upstreamReusable ? CloseReason.ERROR : CloseReason.UPSTREAM_CLOSED);
    }
    finish();
    client.onExchangeDone(!closeClient, requestComplete);
  }

  @Override
  public void onUpstreamClosed() {
    if (state == State.DONE) {
      return;
    }
    UpstreamConnection connection = upstream;
    upstream = null;
    responseTimeout.cancel();
    if (state == State.RELAYING) {
      cutResponse(describe(connection.failure())); // the client must never see part of a response as complete
      return;
    }
    if (connection.unprocessed() && !bodySent && refusals < MAX_REROUTES && withinRetryBudget()) {
      refusals++;
      endpoint.stats().countRetry(); // the backend never acted on it: another connection takes it
      acquire();
      return;
    }
    if (mayRetry(connection) && withinRetryBudget()) {
      retried = true;
      endpoint.stats().countRetry();
      acquire();
      return;
    }
    String reason = describe(connection.failure());
    endpoint.health().onFailure("upstream connection failed: " + reason);
    fail(502, "upstream connection failed: " + reason);
  }

  /**
   * Whether the upstream's retry budget ({@code retryBudget}, cluster-wide) lets a request go again;
   * always with the budget off. A refusal is counted on the endpoint that failed the request.
   */
  private boolean withinRetryBudget() {
    if (route.upstream().retryBudget().tryRetry()) {
      return true;
    }
    endpoint.stats().countRetryRefused();
    return false;
  }

  /** The keep-alive race: a reused connection closed before any response byte, and the request can go again. */
  private boolean mayRetry(UpstreamConnection connection) {
    return !retried && !upgrade && connection.reused() && !connection.responseBytesArrived() && !bodySent
        && (isIdempotent(request.method()) || hasBody);
  }

  private void onUpstreamBroken(String reason) {
    UpstreamConnection connection = upstream;
    upstream = null;
    responseTimeout.cancel();
    release(connection, CloseReason.ERROR);
    endpoint.health().onFailure(reason);
    if (state == State.RELAYING) {
      cutResponse(reason);
    } else {
      fail(502, reason);
    }
  }

  /**
   * The upstream broke off a response already under way. A gRPC call on an HTTP/2 stream ends with
   * {@code UNAVAILABLE} and the reason in its trailers, which its client reads; any other response is
   * cut (the connection or stream reset), so that no client takes it for complete.
   */
  private void cutResponse(String reason) {
    if (client.isStream() && ErrorResponses.isGrpc(request.headers().get(HttpHeaderNames.CONTENT_TYPE))) {
      client.write(ErrorResponses.grpcTrailers(502, "upstream broke off the call: " + reason));
      finish();
      client.onExchangeDone(false, requestComplete);
    } else {
      truncate();
    }
  }

  /** The upstream's silence limit: a streaming route's {@code streamIdleTimeoutMs}, else {@code responseTimeoutMs}. */
  private Duration silenceLimit() {
    Duration streaming = route.streamIdleTimeout();
    return streaming != null ? streaming : route.upstream().config().responseTimeout();
  }

  /** Starts (again) the clock on the upstream's silence; re-armed after every upstream read batch. */
  private void armResponseTimeout() {
    if (silenceTimeouts == null) {
      Duration limit = silenceLimit();
      if (limit.isZero()) {
        return; // a stream that may stay silent for ever
      }
      silenceTimeouts = pool != null && route.streamIdleTimeout() == null ? pool.responseTimeouts()
          : client.loop().loop.timers().list(limit); // looked up once, not per read
    }
    silenceTimeouts.arm(responseTimeout, client.loop().loop.now());
  }

  /** What bounds a stall of the request body: {@code server.idleTimeoutMs}, a streaming route's own, or nothing. */
  private TimeoutList bodyStallLimit() {
    Duration streaming = route.streamIdleTimeout();
    if (streaming == null) {
      return client.loop().idleTimeouts;
    }
    return streaming.isZero() ? null : client.loop().loop.timers().list(streaming);
  }

  /** Starts the per-try clock of a request that may go to another endpoint if this one stays silent. */
  private void armPerTryTimeout() {
    Duration perTry = route.upstream().config().perTryTimeout();
    if (perTry.isZero() || retried || upgrade || !isIdempotent(request.method()) || route.streamIdleTimeout() != null) {
      return;
    }
    if (perTryTimeout == null) {
      perTryTimeout = new Timeout(this::onPerTryTimeout);
    }
    client.loop().loop.timers().list(perTry).arm(perTryTimeout, client.loop().loop.now());
  }

  /**
   * {@code perTryTimeoutMs} passed without a response byte: the request goes once more, to another
   * healthy endpoint, and the silent one is charged a failure. With no other endpoint the request
   * stays where it is and {@code responseTimeoutMs} decides.
   */
  private void onPerTryTimeout() {
    if (state != State.AWAITING_RESPONSE || upstream == null || upstream.responseBytesArrived()) {
      return;
    }
    UpstreamEndpoint other = route.upstream().chooseOther(endpoint, client.loop().index());
    if (other == null || !withinRetryBudget()) {
      return; // responseTimeoutMs decides
    }
    UpstreamConnection connection = upstream;
    upstream = null;
    responseTimeout.cancel();
    release(connection, CloseReason.ERROR);
    endpoint.health().onFailure("no response within perTryTimeoutMs");
    endpoint.stats().countRetry();
    retried = true;
    acquire(other);
  }

  /** The upstream sent nothing for {@code responseTimeoutMs}. */
  @Override
  public void expired() {
    if (upstream == null || state == State.DONE) {
      return;
    }
    long millis = silenceLimit().toMillis();
    if (state == State.AWAITING_RESPONSE) {
      UpstreamConnection connection = upstream;
      upstream = null;
      release(connection, CloseReason.ERROR);
      endpoint.health().onFailure("response timeout");
      fail(504, "upstream response timeout after " + millis + " ms");
    } else {
      onUpstreamBroken("upstream sent nothing for " + millis + " ms mid-response");
    }
  }

  /** The client closed its connection before the exchange ended. */
  void onClientClosed() {
    if (state == State.DONE) {
      return;
    }
    abandonUpstream();
    status = 499; // nginx's convention for "client closed request"
    finish();
  }

  /** The request body stalled longer than the idle timeout. */
  void onClientStalled() {
    onRequestBroken(408, "request body read timed out");
  }

  /** The request body broke off (a framing error or a stall): its exchange cannot complete. */
  private void onRequestBroken(int errorStatus, String reason) {
    if (state == State.DONE) {
      return;
    }
    abandonUpstream();
    if (state == State.RELAYING) {
      truncate();
    } else {
      fail(errorStatus, reason);
    }
  }

  /** Lets go of the upstream side: a waiting lease is cancelled, a leased connection closed (never reused). */
  private void abandonUpstream() {
    responseTimeout.cancel();
    if (state == State.ACQUIRING && pool != null) {
      pool.cancel(this);
    }
    if (upstream != null) {
      UpstreamConnection connection = upstream;
      upstream = null;
      release(connection, CloseReason.CLIENT_ABORTED);
    }
    releaseHeld();
  }

  /** Gives a connection back: to its pool, or, for a dedicated one, closed. */
  private void release(UpstreamConnection connection, CloseReason reason) {
    if (connection.pool() != null) {
      connection.pool().discard(connection, reason);
    } else {
      connection.bind(null);
      connection.close(reason);
    }
  }

  /** {@code server.tls.redirectCleartext}: 308 to the same URL on the TLS listener (method and body kept). */
  private void redirectToHttps(int httpsPort) {
    if (host.isEmpty()) {
      answer(400, "a redirect to https needs a Host header", null);
      return;
    }
    String authority = host + (httpsPort == 443 ? "" : ":" + httpsPort); // an IPv6 host keeps its brackets
    answer(308, "this listener redirects to https", "https://" + authority + originForm(request.uri()));
  }

  /** A one-line error answer, unless a response already started; then the connection is cut. */
  private void fail(int errorStatus, String reason) {
    answer(errorStatus, reason, null);
  }

  /** keepgate's own response, {@code location} (when not null) as its Location header. */
  private void answer(int answerStatus, String reason, String location) {
    if (state == State.RELAYING) {
      truncate();
      return;
    }
    responseTimeout.cancel();
    releaseHeld();
    boolean close = !requestComplete || !clientKeepAlive || client.loop().draining();
    status = answerStatus;
    client.answeringHead(head);
    // a gRPC client gets the gRPC status (metrics and the access log keep the HTTP one)
    boolean grpc = location == null && ErrorResponses.isGrpc(request.headers().get(HttpHeaderNames.CONTENT_TYPE));
    var response = grpc ? ErrorResponses.grpc(answerStatus, reason, close) : ErrorResponses.of(answerStatus, reason, close);
    if (location != null) {
      response.headers().set(HttpHeaderNames.LOCATION, location);
    }
    bytesToClient = response.content().readableBytes();
    client.write(response);
    client.flush();
    finish();
    client.onExchangeDone(!close, requestComplete);
  }

  private void truncate() {
    client.channel().close();
    finish();
  }

  private void switchProtocols(HttpResponse response) {
    status = 101;
    UpstreamConnection connection = upstream;
    upstream = null;
    HttpHeaders headers = response.headers();
    String upgradeTo = headers.get(HttpHeaderNames.UPGRADE);
    HopByHopHeaders.strip(headers);
    headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
    if (upgradeTo != null) {
      headers.set(HttpHeaderNames.UPGRADE, upgradeTo);
    }
    client.answeringHead(false);
    client.write(response);
    finish();
    Tunnel.splice(client, connection);
  }

  private void releaseHeld() {
    if (held != null) {
      held.forEach(HttpContent::release);
      held.clear();
    }
  }

  /** Counts and logs the exchange; once. */
  private void finish() {
    if (state == State.DONE) {
      return;
    }
    state = State.DONE;
    if (sendTimeout != null) {
      sendTimeout.cancel();
    }
    if (perTryTimeout != null) {
      perTryTimeout.cancel();
    }
    long now = client.loop().loop.now();
    String routeName = route != null ? route.name() : MetricNames.NO_ROUTE;
    context.metrics().recordRequest(routeName, status, now - startNanos);
    if (context.accessLog().enabled()) {
      context.accessLog().log(client.clientHost(), client.clientPort(), request.method().name(), path, routeName,
          endpoint != null ? endpoint.address().toString() : "-", status, bytesToClient, now - startNanos,
          upstreamStartNanos < 0 ? -1 : now - upstreamStartNanos,
          upstreamStartNanos < 0 ? "none" : reused ? "reused" : "new");
    }
  }

  private static boolean isIdempotent(HttpMethod method) {
    return method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD) || method.equals(HttpMethod.OPTIONS)
        || method.equals(HttpMethod.PUT) || method.equals(HttpMethod.DELETE) || method.equals(HttpMethod.TRACE);
  }

  private static String describe(Throwable cause) {
    if (cause == null) {
      return "upstream closed the connection";
    }
    String message = cause.getMessage();
    return message != null ? message : cause.getClass().getSimpleName();
  }

  /** The target in origin form: an absolute-form target (validated against Host) loses its scheme and authority. */
  static String originForm(String target) {
    if (target.startsWith("/") || target.equals("*")) {
      return target;
    }
    int authority = target.indexOf("://");
    int pathStart = authority < 0 ? -1 : target.indexOf('/', authority + 3);
    if (pathStart < 0) {
      int query = authority < 0 ? -1 : target.indexOf('?', authority + 3);
      return query < 0 ? "/" : "/" + target.substring(query);
    }
    return target.substring(pathStart);
  }

  /** The path of a target, without query or fragment. */
  static String pathOf(String target) {
    String origin = originForm(target);
    int end = origin.length();
    for (int i = 0; i < origin.length(); i++) {
      char c = origin.charAt(i);
      if (c == '?' || c == '#') {
        end = i;
        break;
      }
    }
    return end == origin.length() ? origin : origin.substring(0, end);
  }

  /** A Host header value without its port (IPv6 literals keep their brackets). */
  static String hostWithoutPort(String host) {
    int bracket = host.lastIndexOf(']');
    int colon = host.lastIndexOf(':');
    return colon > bracket ? host.substring(0, colon) : host;
  }
}
