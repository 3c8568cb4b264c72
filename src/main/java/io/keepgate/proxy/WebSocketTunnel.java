package io.keepgate.proxy;

import io.keepgate.routing.Route;
import io.keepgate.upstream.EndpointPool;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpClientConnection;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.NetSocket;
import java.util.function.IntConsumer;

/**
 * A WebSocket upgrade passed through on an upstream connection of its own, which never returns to
 * the pool: the backend's handshake answer is relayed, and on 101 both sides become raw byte
 * tunnels piped into each other with backpressure until either side closes. The client
 * connection's idle timeout still applies to the tunnel.
 *
 * <p>Threading: confined to the client connection's event loop; the dedicated upstream
 * connection is opened from it too.
 */
final class WebSocketTunnel {

  /** How the exchange answers with an error line: status, reason, close the client connection. */
  interface ErrorResponder {
    void respond(int status, String reason, boolean closeConnection);
  }

  private final HttpServerRequest request;
  private final EndpointPool pool;
  private final Route route;
  private final MultiMap upstreamHeaders;
  private final ErrorResponder errors;
  private final IntConsumer onEstablished;

  WebSocketTunnel(HttpServerRequest request, EndpointPool pool, Route route, MultiMap upstreamHeaders,
      ErrorResponder errors, IntConsumer onEstablished) {
    this.request = request;
    this.pool = pool;
    this.route = route;
    this.upstreamHeaders = upstreamHeaders;
    this.errors = errors;
    this.onEstablished = onEstablished;
  }

  /** A GET asking to switch to the WebSocket protocol. */
  static boolean isUpgrade(HttpServerRequest request) {
    return request.method() == HttpMethod.GET
        && "websocket".equalsIgnoreCase(request.getHeader(HttpHeaders.UPGRADE))
        && HopByHopHeaders.connectionHas(request.headers(), "upgrade");
  }

  void open() {
    request.pause();
    upstreamHeaders.set(HttpHeaders.CONNECTION, "Upgrade");
    upstreamHeaders.set(HttpHeaders.UPGRADE, request.getHeader(HttpHeaders.UPGRADE));
    pool.connectDedicated().onComplete(ar -> {
      if (ar.failed()) {
        errors.respond(502, "connect to upstream failed: " + ar.cause().getMessage(), true);
      } else {
        handshake(ar.result());
      }
    });
  }

  private void handshake(HttpClientConnection connection) {
    RequestOptions options = new RequestOptions()
        .setMethod(HttpMethod.GET)
        .setURI(route.upstreamUri(request.uri()))
        .setHeaders(upstreamHeaders);
    connection.request(options).compose(HttpClientRequest::connect).onComplete(ar -> {
      if (ar.failed()) {
        connection.close();
        errors.respond(502, "upstream connection failed: " + ar.cause().getMessage(), true);
      } else if (ar.result().statusCode() != 101) {
        relayRefusal(connection, ar.result());
      } else {
        switchProtocols(ar.result());
      }
    });
  }

  private void switchProtocols(HttpClientResponse upstreamResponse) {
    NetSocket upstream = upstreamResponse.netSocket();
    HopByHopHeaders.copyEndToEnd(upstreamResponse.headers(), request.response().headers());
    request.response().headers()
        .set(HttpHeaders.CONNECTION, "Upgrade")
        .set(HttpHeaders.UPGRADE, upstreamResponse.getHeader(HttpHeaders.UPGRADE));
    request.toNetSocket().onComplete(ar -> {
      if (ar.failed()) {
        upstream.close();
        return;
      }
      NetSocket client = ar.result();
      client.pipeTo(upstream);
      upstream.pipeTo(client);
      client.closeHandler(v -> upstream.close());
      upstream.closeHandler(v -> client.close());
      onEstablished.accept(101);
    });
  }

  /** The backend declined the upgrade: its answer goes to the client and the connection closes. */
  private void relayRefusal(HttpClientConnection connection, HttpClientResponse upstreamResponse) {
    upstreamResponse.body().onComplete(body -> {
      connection.close();
      if (body.failed()) {
        errors.respond(502, "upstream connection failed: " + body.cause().getMessage(), true);
        return;
      }
      HopByHopHeaders.copyEndToEnd(upstreamResponse.headers(), request.response().headers());
      request.response()
          .setStatusCode(upstreamResponse.statusCode())
          .putHeader(HttpHeaders.CONNECTION, "close")
          .end(body.result());
      onEstablished.accept(upstreamResponse.statusCode());
      request.connection().close();
    });
  }
}
