package io.keepgate.proxy;

import io.keepgate.metrics.AccessLog;
import io.keepgate.metrics.GatewayMetrics;
import io.keepgate.metrics.MetricNames;
import io.keepgate.routing.Route;
import io.keepgate.routing.RouteTable;
import io.keepgate.upstream.CloseReason;
import io.keepgate.upstream.EndpointPool;
import io.keepgate.upstream.Lease;
import io.keepgate.upstream.PoolFailure;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.HostAndPort;
import java.util.concurrent.TimeoutException;

/**
 * One client request on its way through keepgate: route, lease an upstream connection, stream the
 * request up and the response down with backpressure, then return the connection to its pool.
 *
 * <p>A request that fails on a reused connection before any response byte (the backend closed
 * the idle connection just as keepgate reused it) is retried once when it has no body and its
 * method is idempotent. Nothing is retried after a response byte arrived.
 *
 * <p>Threading: confined to the event loop of the client connection; every callback below runs
 * there (Vert.x dispatches upstream events to the context that created the upstream request).
 */
final class ProxyExchange {
  private final HttpServerRequest request;
  private final HttpServerResponse response;
  private final RouteTable routes;
  private final GatewayMetrics metrics;
  private final AccessLog accessLog;
  private final long startNanos = System.nanoTime();

  private Route route;
  private EndpointPool pool;
  private Lease lease;
  private HttpClientRequest upstreamRequest;
  private long upstreamStartNanos = -1;
  private boolean retried;
  private boolean finished;
  /** Whether the request carries a body (framing validated by StrictRequestDecoder). */
  private final boolean hasBody;
  /** Whether the client's body has been read in full (trivially so for a bodyless request). */
  private boolean requestBodyRead;
  /** The response body length the client was promised (Content-Length), or -1 when delimited otherwise. */
  private long promisedBodyBytes = -1;

  ProxyExchange(HttpServerRequest request, RouteTable routes, GatewayMetrics metrics, AccessLog accessLog) {
    this.request = request;
    this.response = request.response();
    this.routes = routes;
    this.metrics = metrics;
    this.accessLog = accessLog;
    this.hasBody = request.headers().contains(HttpHeaders.TRANSFER_ENCODING)
        || (request.headers().contains(HttpHeaders.CONTENT_LENGTH)
            && !"0".equals(request.headers().get(HttpHeaders.CONTENT_LENGTH)));
  }

  void start() {
    requestBodyRead = !hasBody;
    HostAndPort authority = request.authority();
    route = routes.match(authority != null ? authority.host() : "", request.path(), request.method());
    if (route == null) {
      respondError(404, "no route matches this request", false);
      return;
    }
    if (WebSocketTunnel.isUpgrade(request)) {
      pool = route.upstream().choose();
      if (pool == null) {
        respondNoHealthyEndpoint();
        return;
      }
      upstreamStartNanos = System.nanoTime();
      new WebSocketTunnel(request, pool, route, upstreamHeaders(), this::respondError, this::finish).open();
      return;
    }
    if (!requestBodyRead) {
      request.pause(); // nothing of the body is read until an upstream connection can take it
    }
    response.closeHandler(v -> onClientClosed());
    acquire();
  }

  private void acquire() {
    pool = route.upstream().choose();
    if (pool == null) {
      respondNoHealthyEndpoint();
      return;
    }
    pool.acquire().onComplete(ar -> {
      if (ar.failed()) {
        onAcquireFailed((PoolFailure) ar.cause());
      } else if (finished) {
        ar.result().recycleUnused(); // the client left while we waited
      } else {
        lease = ar.result();
        send();
      }
    });
  }

  /** Every endpoint is ejected: 503 at once, without a connect attempt. */
  private void respondNoHealthyEndpoint() {
    respondError(503, "no healthy endpoint in upstream " + route.upstream().name(), false);
  }

  private void onAcquireFailed(PoolFailure failure) {
    int status = failure.kind() == PoolFailure.Kind.CONNECT_FAILED ? 502 : 503;
    respondError(status, failure.getMessage(), false);
  }

  private void send() {
    upstreamStartNanos = System.nanoTime();
    RequestOptions options = new RequestOptions()
        .setMethod(request.method())
        .setURI(route.upstreamUri(request.uri()))
        .setHeaders(upstreamHeaders());
    lease.connection().request(options).onComplete(ar -> {
      if (ar.failed()) {
        onUpstreamFailed(ar.cause());
        return;
      }
      upstreamRequest = ar.result();
      upstreamRequest.response().onComplete(r -> {
        if (r.succeeded()) {
          onResponse(r.result());
        } else {
          onUpstreamFailed(r.cause());
        }
      });
      long responseTimeout = route.upstream().config().responseTimeout().toMillis();
      if (hasBody) {
        sendBody(responseTimeout);
      } else {
        upstreamRequest.idleTimeout(responseTimeout);
        upstreamRequest.end();
      }
    });
  }

  private MultiMap upstreamHeaders() {
    MultiMap headers = HttpHeaders.headers();
    HopByHopHeaders.copyEndToEnd(request.headers(), headers);
    ForwardedHeaders.addToRequest(request, request.remoteAddress().hostAddress(), headers);
    if (!route.hostRewrite().isEmpty()) {
      headers.set(HttpHeaders.HOST, route.hostRewrite());
    }
    return headers;
  }



  /** Streams the client body upstream; the response timeout starts once it is all sent. */
  private void sendBody(long responseTimeout) {
    if (!request.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
      upstreamRequest.setChunked(true);
    }
    if (request.headers().contains(HttpHeaders.EXPECT)) {
      // the backend decides on 100-continue; its interim answer is relayed to the client
      upstreamRequest.continueHandler(v -> response.writeContinue());
      upstreamRequest.sendHead();
    }
    request.pipe().endOnFailure(false).to(upstreamRequest).onComplete(ar -> {
      if (ar.succeeded()) {
        requestBodyRead = true;
        upstreamRequest.idleTimeout(responseTimeout);
      } else if (!finished) {
        upstreamRequest.reset(); // the client body broke off: the upstream exchange cannot complete
      }
    });
  }

  private void onResponse(HttpClientResponse upstreamResponse) {
    if (finished) {
      return;
    }
    response.setStatusCode(upstreamResponse.statusCode());
    response.setStatusMessage(upstreamResponse.statusMessage());
    HopByHopHeaders.copyEndToEnd(upstreamResponse.headers(), response.headers());
    ForwardedHeaders.appendVia(response.headers(), upstreamResponse.version());
    boolean closeClientAfter = false;
    promisedBodyBytes = mayHaveBody(upstreamResponse.statusCode())
        ? parseLength(upstreamResponse.headers().get(HttpHeaders.CONTENT_LENGTH)) : 0;
    if (mayHaveBody(upstreamResponse.statusCode()) && !upstreamResponse.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
      if (request.version() == HttpVersion.HTTP_1_1) {
        response.setChunked(true);
      } else {
        closeClientAfter = true; // HTTP/1.0 has no chunking: the body ends when the connection does
        response.putHeader(HttpHeaders.CONNECTION, "close");
      }
    }
    relayBody(upstreamResponse, closeClientAfter);
  }

  /**
   * Streams the response body to the client with backpressure (the upstream is paused while the
   * client's write queue is full). The connection goes back to its pool as soon as the upstream
   * message ends, before the client's last bytes are written, so a client's next request finds
   * it idle.
   */
  private void relayBody(HttpClientResponse upstreamResponse, boolean closeClientAfter) {
    upstreamResponse.handler(chunk -> {
      response.write(chunk);
      if (response.writeQueueFull()) {
        upstreamResponse.pause();
        response.drainHandler(v -> upstreamResponse.resume());
      }
    });
    upstreamResponse.exceptionHandler(error -> {
      // upstream broke off mid-body: the client must never see a complete message
      lease.discard(CloseReason.ERROR);
      finish(response.getStatusCode());
      request.connection().close();
    });
    upstreamResponse.endHandler(v -> {
      recycleOrDiscard(upstreamResponse);
      response.end();
      finish(response.getStatusCode());
      if (closeClientAfter) {
        request.connection().close();
      }
    });
  }

  /**
   * Whether the client has every byte of the response it was promised. A client may close as soon
   * as it has read Content-Length bytes, before the upstream's end-of-message reaches keepgate.
   */
  private boolean clientHasWholeResponse() {
    return response.headWritten() && promisedBodyBytes >= 0 && response.bytesWritten() >= promisedBodyBytes;
  }

  private static long parseLength(String contentLength) {
    try {
      return contentLength == null ? -1 : Long.parseLong(contentLength.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private boolean mayHaveBody(int status) {
    return request.method() != HttpMethod.HEAD && status >= 200 && status != 204 && status != 304;
  }

  private void recycleOrDiscard(HttpClientResponse upstreamResponse) {
    if (HopByHopHeaders.connectionHas(upstreamResponse.headers(), "close")
        || (upstreamResponse.version() == HttpVersion.HTTP_1_0
            && !HopByHopHeaders.connectionHas(upstreamResponse.headers(), "keep-alive"))) {
      lease.discard(CloseReason.UPSTREAM_CLOSED);
    } else if (!requestBodyRead) {
      lease.discard(CloseReason.ERROR); // answered before the request body was all sent: framing unknown
    } else {
      lease.recycle(HopByHopHeaders.keepAliveTimeoutSeconds(upstreamResponse.headers()));
    }
  }

  private void onUpstreamFailed(Throwable cause) {
    if (finished) {
      return;
    }
    lease.discard(CloseReason.forFailure(cause));
    if (cause instanceof TimeoutException) {
      pool.reportFailure("response timeout");
      respondError(504, "upstream response timeout after "
          + route.upstream().config().responseTimeout().toMillis() + " ms", false);
    } else if (lease.reused() && !retried && !hasBody && isIdempotent(request.method())) {
      retried = true; // the keep-alive race: the backend closed this idle connection as we reused it
      pool.countRetry();
      acquire();
    } else {
      pool.reportFailure("upstream connection failed: " + describe(cause));
      respondError(502, "upstream connection failed: " + describe(cause), false);
    }
  }

  private void onClientClosed() {
    if (finished || response.ended() || clientHasWholeResponse()) {
      return; // nothing was cut short: the upstream response ends normally and finishes the exchange
    }
    // Finish first: the reset below fails the upstream response at once, and that failure is the
    // client's doing, not the backend's; it must neither count against the endpoint nor be retried.
    finish(499); // nginx's convention for "client closed request"
    if (upstreamRequest != null) {
      upstreamRequest.reset();
    }
    if (lease != null) {
      lease.discard(CloseReason.ERROR);
    }
  }

  /** A one-line plain-text error, unless the response already started; then the connection is cut. */
  private void respondError(int status, String reason, boolean closeConnection) {
    if (finished) {
      return;
    }
    if (response.headWritten()) {
      request.connection().close();
      finish(response.getStatusCode());
      return;
    }
    response.headers().clear();
    response.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8");
    // an unread request body would be parsed as the next request: close instead
    boolean close = closeConnection || !requestBodyRead;
    if (close) {
      response.putHeader(HttpHeaders.CONNECTION, "close");
    }
    response.end(reason + "\n");
    finish(status);
    if (close) {
      response.endHandler(null);
      request.connection().close();
    }
  }

  private void finish(int status) {
    if (finished) {
      return;
    }
    finished = true;
    long now = System.nanoTime();
    String routeName = route != null ? route.name() : MetricNames.NO_ROUTE;
    metrics.recordRequest(routeName, status, now - startNanos);
    if (accessLog.enabled()) {
      accessLog.log(request.remoteAddress().toString(), request.method().name(), request.path(), routeName,
          pool != null ? pool.endpoint().toString() : "-", status, response.bytesWritten(), now - startNanos,
          upstreamStartNanos < 0 ? -1 : now - upstreamStartNanos,
          lease == null ? "none" : lease.reused() ? "reused" : "new");
    }
  }

  private static boolean isIdempotent(HttpMethod method) {
    return method == HttpMethod.GET || method == HttpMethod.HEAD || method == HttpMethod.OPTIONS
        || method == HttpMethod.PUT || method == HttpMethod.DELETE || method == HttpMethod.TRACE;
  }

  private static String describe(Throwable cause) {
    String message = cause.getMessage();
    return message != null ? message : cause.getClass().getSimpleName();
  }
}
