package io.keepgate.health;

import io.keepgate.config.Endpoint;
import io.keepgate.config.HealthCheckConfig;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClientAgent;

/**
 * Probes one endpoint once and reports the outcome; {@link HealthState} decides what it means.
 *
 * <p>Threading: called on the endpoint pool's home event loop; the future completes there.
 */
public interface HealthChecker {

  /** Succeeds with true when the endpoint answered as healthy, false (or fails) otherwise. */
  Future<Boolean> check(Endpoint endpoint);

  /** An HTTP probe of {@code healthCheck.path} when one is configured, else a TCP connect probe. */
  static HealthChecker of(HealthCheckConfig config, HttpClientAgent client) {
    return config.activeProbesEnabled() ? new HttpHealthChecker(client, config) : new TcpHealthChecker(client, config);
  }
}
