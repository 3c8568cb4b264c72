package io.keepgate.proxy;

import io.keepgate.metrics.GatewayMetrics;
import io.netty.channel.Channel;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.impl.ConnectionBase;
import java.time.Duration;

/**
 * Prepares every client connection before its first byte is decoded: keepgate's strict request
 * decoder in place of Vert.x's, the request-head read clock, and the open-connections gauge.
 *
 * <p>Threading: runs on the connection's event loop when Vert.x accepts it; holds only config.
 */
final class ClientConnectionSetup implements Handler<HttpConnection> {
  /** The name Vert.x gives its HTTP/1.x request decoder in the channel pipeline. */
  static final String DECODER = "httpDecoder";

  private final HttpServerOptions options;
  private final HeaderReadTimeout headerReadTimeout;
  private final GatewayMetrics metrics;

  ClientConnectionSetup(HttpServerOptions options, Duration headerReadTimeout, GatewayMetrics metrics) {
    this.options = options;
    this.headerReadTimeout = new HeaderReadTimeout(headerReadTimeout);
    this.metrics = metrics;
  }

  @Override
  public void handle(HttpConnection connection) {
    if (!(connection instanceof ConnectionBase base) || base.channel().pipeline().get(DECODER) == null) {
      return; // not an HTTP/1.x connection: nothing else is served on the proxy port
    }
    Channel channel = base.channel();
    metrics.clientConnectionOpened();
    channel.closeFuture().addListener(f -> metrics.clientConnectionClosed());
    channel.pipeline().replace(DECODER, DECODER, new StrictRequestDecoder(options, channel.alloc()));
    headerReadTimeout.install(channel.pipeline());
  }
}
