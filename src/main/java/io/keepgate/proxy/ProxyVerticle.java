package io.keepgate.proxy;

import io.keepgate.config.ServerConfig;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Wiring only: one client-facing HTTP server on this verticle's event loop, handing requests to
 * the shared {@link ProxyHandler}. Several instances share the listening port, one per event loop.
 */
public final class ProxyVerticle extends VerticleBase {
  private final ServerConfig config;
  private final int port;
  private final ProxyHandler handler;
  private final Consumer<HttpServer> onListening;

  /**
   * @param port        the port to bind; -1 shares one random port among all instances
   * @param onListening receives the bound server, so the gateway can drain it
   */
  public ProxyVerticle(ServerConfig config, int port, ProxyHandler handler, Consumer<HttpServer> onListening) {
    this.config = config;
    this.port = port;
    this.handler = handler;
    this.onListening = onListening;
  }

  @Override
  public Future<?> start() {
    HttpServerOptions options = new HttpServerOptions()
        .setHost(config.host())
        .setPort(port)
        .setIdleTimeout((int) config.idleTimeout().toMillis())
        .setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
        .setMaxHeaderSize(config.maxHeaderBytes())
        .setMaxInitialLineLength(config.maxRequestLineBytes())
        .setHandle100ContinueAutomatically(false)
        .setCompressionSupported(false)
        .setDecompressionSupported(false)
        .setTcpNoDelay(true)
        // h2c is not served here; with its detection on, Vert.x would set a connection up only after
        // decoding its first request, too late for ClientConnectionSetup to judge that request
        .setHttp2ClearTextEnabled(false);
    HttpServer server = vertx.createHttpServer(options)
        .requestHandler(handler)
        .invalidRequestHandler(handler::handleInvalid)
        .connectionHandler(new ClientConnectionSetup(options, config.headerReadTimeout(), handler.metrics()));
    return server.listen().onSuccess(onListening::accept);
  }
}
