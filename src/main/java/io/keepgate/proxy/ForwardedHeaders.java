package io.keepgate.proxy;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;

/**
 * The de-facto forwarding headers keepgate adds upstream, and the {@code Via} it adds both ways.
 *
 * <p>Threading: stateless.
 */
final class ForwardedHeaders {
  static final String VIA_NAME = "keepgate";

  private ForwardedHeaders() {}

  /** Appends the client to X-Forwarded-For and sets X-Forwarded-Proto and X-Forwarded-Host. */
  static void addToRequest(HttpServerRequest request, String clientHost, MultiMap upstreamHeaders) {
    String prior = String.join(", ", request.headers().getAll("x-forwarded-for"));
    upstreamHeaders.set("X-Forwarded-For", prior.isEmpty() ? clientHost : prior + ", " + clientHost);
    upstreamHeaders.set("X-Forwarded-Proto", request.isSSL() ? "https" : "http");
    String host = request.headers().get("host");
    if (host != null) {
      upstreamHeaders.set("X-Forwarded-Host", host);
    }
    appendVia(upstreamHeaders, request.version());
  }

  /** Appends this hop, in the protocol version it received, to {@code Via}. */
  static void appendVia(MultiMap headers, HttpVersion receivedVersion) {
    String hop = (receivedVersion == HttpVersion.HTTP_1_0 ? "1.0 " : "1.1 ") + VIA_NAME;
    String prior = String.join(", ", headers.getAll("via"));
    headers.set("Via", prior.isEmpty() ? hop : prior + ", " + hop);
  }
}
