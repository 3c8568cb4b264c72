package io.keepgate.health;

import io.keepgate.config.Endpoint;
import io.keepgate.config.HealthCheckConfig;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpConnectOptions;

/**
 * The probe when no {@code healthCheck.path} is configured: a TCP (and HTTP/1.1 connection)
 * setup within {@code timeoutMs}, closed at once. It readmits an endpoint that accepts
 * connections again.
 *
 * <p>Threading: stateless.
 */
final class TcpHealthChecker implements HealthChecker {
  private final HttpClientAgent client;
  private final HealthCheckConfig config;

  TcpHealthChecker(HttpClientAgent client, HealthCheckConfig config) {
    this.client = client;
    this.config = config;
  }

  @Override
  public Future<Boolean> check(Endpoint endpoint) {
    HttpConnectOptions options = new HttpConnectOptions()
        .setHost(endpoint.host())
        .setPort(endpoint.port())
        .setConnectTimeout(config.timeout().toMillis());
    return client.connect(options).compose(connection -> connection.close().map(true));
  }
}
