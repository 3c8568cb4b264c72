package io.keepgate.demo;

import io.keepgate.config.Endpoint;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Two tiny sample backends for {@code --demo}: each answers with JSON naming itself, the request
 * it saw and its connection, so a user can watch keepgate reuse upstream connections.
 * {@code /slow?ms=N} answers after N ms; {@code /bytes?n=N} sends N bytes.
 */
public final class DemoBackends {
  private final Vertx vertx = Vertx.vertx();

  /** Starts one backend per endpoint; blocks until they listen. */
  public void start(List<Endpoint> endpoints) throws Exception {
    for (Endpoint endpoint : endpoints) {
      HttpServer server = vertx.createHttpServer().requestHandler(request -> answer(endpoint, request));
      server.listen(endpoint.port(), endpoint.host()).await(10, TimeUnit.SECONDS);
    }
  }

  private void answer(Endpoint self, HttpServerRequest request) {
    String slow = request.getParam("ms");
    if (slow != null && request.path().equals("/slow")) {
      vertx.setTimer(Math.max(1, Long.parseLong(slow)), id -> answer(self, request, null));
    } else if (request.path().equals("/bytes")) {
      int n = Integer.parseInt(request.getParam("n", "1024"));
      request.response().putHeader("content-type", "application/octet-stream").end("x".repeat(n));
    } else {
      request.body().onSuccess(body -> answer(self, request, body.length() > 0 ? body.toString() : null));
    }
  }

  private static void answer(Endpoint self, HttpServerRequest request, String body) {
    JsonObject headers = new JsonObject();
    request.headers().forEach(h -> headers.put(h.getKey().toLowerCase(), h.getValue()));
    JsonObject reply = new JsonObject()
        .put("backend", self.toString())
        .put("method", request.method().name())
        .put("uri", request.uri())
        .put("upstreamConnection", request.remoteAddress().toString())
        .put("headers", headers);
    if (body != null) {
      reply.put("body", body);
    }
    request.response().putHeader("content-type", "application/json").end(reply.encodePrettily() + "\n");
  }

  public Future<Void> close() {
    return vertx.close();
  }
}
