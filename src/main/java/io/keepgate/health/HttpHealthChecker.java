package io.keepgate.health;

import io.keepgate.config.Endpoint;
import io.keepgate.config.HealthCheckConfig;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;

/**
 * {@code GET healthCheck.path} on a fresh connection ({@code Connection: close}, so probes never
 * sit in a pool or hide a broken keep-alive path); any 2xx within {@code timeoutMs} is healthy.
 *
 * <p>Threading: stateless.
 */
final class HttpHealthChecker implements HealthChecker {
  private final HttpClientAgent client;
  private final HealthCheckConfig config;

  HttpHealthChecker(HttpClientAgent client, HealthCheckConfig config) {
    this.client = client;
    this.config = config;
  }

  @Override
  public Future<Boolean> check(Endpoint endpoint) {
    RequestOptions options = new RequestOptions()
        .setMethod(HttpMethod.GET)
        .setHost(endpoint.host())
        .setPort(endpoint.port())
        .setURI(config.path())
        .putHeader("Connection", "close")
        .putHeader("User-Agent", "keepgate-health-check")
        .setTimeout(config.timeout().toMillis());
    return client.request(options)
        .compose(request -> request.send().compose(response -> response.body().map(body -> isHealthy(response))));
  }

  private static boolean isHealthy(HttpClientResponse response) {
    return response.statusCode() >= 200 && response.statusCode() < 300;
  }
}
