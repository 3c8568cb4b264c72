package io.keepgate.testing;

import io.keepgate.Gateway;
import io.keepgate.config.ConfigLoader;
import io.keepgate.config.GatewayConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A keepgate node started in-process on port 0 from a JSON config, with helpers to read its admin
 * API the way a user would (over HTTP).
 */
public final class GatewayHarness implements AutoCloseable {
  private final Gateway gateway;
  private final HttpClient admin = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private GatewayHarness(Gateway gateway) {
    this.gateway = gateway;
  }

  /**
   * A config with one upstream "up" over {@code endpoints} and one catch-all route "all".
   * Tests tweak the returned JSON (e.g. {@code upstream(config).getJsonObject("pool").put(...)}).
   */
  public static JsonObject config(String... endpoints) {
    return new JsonObject()
        .put("server", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("drainTimeoutMs", 5000))
        .put("admin", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("accessLog", new JsonObject().put("enabled", false))
        .put("upstreams", new JsonArray().add(new JsonObject()
            .put("name", "up")
            .put("endpoints", new JsonArray(java.util.List.of((Object[]) endpoints)))
            .put("pool", new JsonObject())))
        .put("routes", new JsonArray().add(new JsonObject().put("name", "all").put("upstream", "up")));
  }

  /** The first upstream object of a config built by {@link #config}. */
  public static JsonObject upstream(JsonObject config) {
    return config.getJsonArray("upstreams").getJsonObject(0);
  }

  /** The pool object of the first upstream. */
  public static JsonObject pool(JsonObject config) {
    return upstream(config).getJsonObject("pool");
  }

  public static GatewayHarness start(JsonObject config) throws Exception {
    GatewayConfig parsed = ConfigLoader.parse(config.encode());
    return new GatewayHarness(Gateway.start(parsed));
  }

  /** Starts from a config file, which the gateway then watches (and reloads on POST /admin/reload). */
  public static GatewayHarness startWatching(Path file) throws Exception {
    return new GatewayHarness(Gateway.start(ConfigLoader.load(file), file));
  }

  /** POST on the admin listener; returns status and body. */
  public HttpResponse<String> adminPost(String path) throws IOException, InterruptedException {
    return admin.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.adminPort() + path))
        .POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  public Gateway gateway() {
    return gateway;
  }

  /** A URL of the admin listener, e.g. {@code adminUrl("/")} for the dashboard. */
  public String adminUrl(String path) {
    return "http://127.0.0.1:" + gateway.adminPort() + path;
  }

  public int port() {
    return gateway.proxyPort();
  }

  /** The TLS listener's port, or -1 when {@code server.tls} is off. */
  public int tlsPort() {
    return gateway.tlsPort();
  }

  public String url(String path) {
    return "http://127.0.0.1:" + port() + path;
  }

  /** GET on the admin listener; returns status and body. */
  public HttpResponse<String> admin(String path) throws IOException, InterruptedException {
    return admin.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.adminPort() + path))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** GET /admin/pools, the stats object of one endpoint of upstream "up". */
  public JsonObject pool(String endpoint) {
    try {
      return new JsonObject(admin("/admin/pools").body())
          .getJsonObject("upstreams").getJsonObject("up").getJsonObject("endpoints").getJsonObject(endpoint);
    } catch (IOException | InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  /** The value of a Prometheus sample from GET /metrics, e.g. {@code metric("keepgate_requests_total", "code=\"200\"")}; 0 when absent. */
  public double metric(String name, String... labelFragments) {
    try {
      return PrometheusText.sum(admin("/metrics").body(), name, labelFragments);
    } catch (IOException | InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  /** Closed-connection count of an endpoint for one reason, from /metrics. */
  public double closed(String endpoint, String reason) {
    return metric("keepgate_upstream_connections_closed_total", "endpoint=\"" + endpoint + "\"", "reason=\"" + reason + "\"");
  }

  @Override
  public void close() {
    gateway.drain();
  }
}
