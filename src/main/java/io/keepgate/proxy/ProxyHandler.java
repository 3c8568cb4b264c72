package io.keepgate.proxy;

import io.keepgate.metrics.AccessLog;
import io.keepgate.metrics.GatewayMetrics;
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

  @Override
  public void handle(HttpServerRequest request) {
    new ProxyExchange(request, routes.get(), metrics, accessLog).start();
  }
}
