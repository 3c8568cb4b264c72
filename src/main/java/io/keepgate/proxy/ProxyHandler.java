package io.keepgate.proxy;

import io.keepgate.metrics.AccessLog;
import io.keepgate.metrics.GatewayMetrics;
import io.keepgate.metrics.MetricNames;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.http.HttpHeaders;
import io.keepgate.routing.RouteTable;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import java.util.function.Supplier;

/**
 * The reverse proxy as a plain request handler: one {@link ProxyExchange} per client request.
 *
 * <p>Threading: shared by every proxy event loop; holds only immutable collaborators. The route
 * table is read through a supplier so that a reload can swap it.
 */
public final class ProxyHandler implements Handler<HttpServerRequest> {
  private final Supplier<RouteTable> routes;
  private final GatewayMetrics metrics;
  private final AccessLog accessLog;

  public ProxyHandler(Supplier<RouteTable> routes, GatewayMetrics metrics, AccessLog accessLog) {
    this.routes = routes;
    this.metrics = metrics;
    this.accessLog = accessLog;
  }

  GatewayMetrics metrics() {
    return metrics;
  }

  @Override
  public void handle(HttpServerRequest request) {
    new ProxyExchange(request, routes.get(), metrics, accessLog).start();
  }

  /**
   * A request the decoder refused: 414 or 431 for size, 400 otherwise, with the reason, and the
   * connection closed. It never reaches routing or a backend.
   */
  void handleInvalid(HttpServerRequest request) {
    Throwable cause = request.decoderResult().cause();
    int status = cause instanceof TooLongHttpLineException ? 414
        : cause instanceof TooLongHttpHeaderException ? 431 : 400;
    String reason = switch (status) {
      case 414 -> "request line too long";
      case 431 -> "request header fields too large";
      default -> cause instanceof StrictRequestDecoder.InvalidRequestHead ? cause.getMessage() : "malformed request";
    };
    long start = System.nanoTime();
    request.response()
        .setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
        .putHeader(HttpHeaders.CONNECTION, "close")
        .end(reason + "\n");
    request.connection().close();
    metrics.recordRequest(MetricNames.NO_ROUTE, status, System.nanoTime() - start);
    if (accessLog.enabled()) {
      accessLog.log(request.remoteAddress().toString(), "-", "-", MetricNames.NO_ROUTE, "-", status,
          request.response().bytesWritten(), System.nanoTime() - start, -1, "none");
    }
  }
}
