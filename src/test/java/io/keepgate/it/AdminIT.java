package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.config.ConfigLoader;
import io.keepgate.config.GatewayConfig;
import io.keepgate.testing.Await;
import io.keepgate.testing.CountingBackend;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.RawClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The claim under test: the admin listener (SPEC section 5), on its own port, tells an operator
 * the truth. Liveness and readiness answer 200 while serving; {@code /metrics} carries every meter
 * the SPEC names with exactly its labels, plus JVM and Vert.x meters, and never a request path
 * as a label value; {@code /admin/pools} counts the connections and requests the backend itself
 * saw; {@code /admin/config} is the effective config, defaults filled in, in a form the config
 * loader reads back to the same config.
 */
class AdminIT {
  private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)\\})? (\\S+)$");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  /** One Prometheus sample line. */
  record Sample(String name, Map<String, String> labels, double value) {}

  private static List<Sample> scrape(GatewayHarness gateway) throws Exception {
    HttpResponse<String> response = gateway.admin("/metrics");
    assertEquals(200, response.statusCode());
    List<Sample> samples = new ArrayList<>();
    for (String line : response.body().split("\n")) {
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      Matcher m = SAMPLE.matcher(line);
      assertTrue(m.matches(), "not a Prometheus sample line: " + line);
      Map<String, String> labels = new LinkedHashMap<>();
      if (m.group(2) != null) {
        Matcher l = LABEL.matcher(m.group(2));
        while (l.find()) {
          labels.put(l.group(1), l.group(2));
        }
      }
      samples.add(new Sample(m.group(1), labels, Double.parseDouble(m.group(3))));
    }
    return samples;
  }

  /** The samples of {@code name} whose labels include every {@code key=value} pair given. */
  private static List<Sample> find(List<Sample> samples, String name, String... pairs) {
    List<Sample> found = new ArrayList<>();
    outer:
    for (Sample s : samples) {
      if (!s.name().equals(name)) {
        continue;
      }
      for (int i = 0; i < pairs.length; i += 2) {
        if (!pairs[i + 1].equals(s.labels().get(pairs[i]))) {
          continue outer;
        }
      }
      found.add(s);
    }
    return found;
  }

  /** The one sample of {@code name} with these labels, which must be exactly {@code labelNames}. */
  private static Sample one(List<Sample> samples, Set<String> labelNames, String name, String... pairs) {
    List<Sample> found = find(samples, name, pairs);
    assertEquals(1, found.size(), name + " " + List.of(pairs) + ": expected one sample, found " + found);
    assertEquals(labelNames, found.get(0).labels().keySet(), name + " labels");
    return found.get(0);
  }

  private static int get(RawClient client, String path) throws Exception {
    client.send("GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n");
    return client.readResponse().status();
  }

  @Test
  void livenessAndReadinessAnswer200WhileServing() throws Exception {
    try (CountingBackend backend = CountingBackend.start();
        GatewayHarness gateway = GatewayHarness.start(GatewayHarness.config(backend.endpoint()))) {
      assertEquals(200, gateway.admin("/health/live").statusCode());
      assertEquals(200, gateway.admin("/health/ready").statusCode());
      try (RawClient client = new RawClient(gateway.port())) {
        assertEquals(200, get(client, "/"), "the proxy serves while ready says so");
        client.send("GET /health/live HTTP/1.1\r\nHost: test\r\n\r\n");
        assertEquals("ok", client.readResponse().body(),
            "admin paths on the proxy port go to the backend: the admin listener is never on the proxy port");
      }
      assertEquals(2, backend.requests());
    }
  }

  @Test
  void metricsCarryEverySpecMeterWithItsLabelsAndNoRequestPath() throws Exception {
    String marker = UUID.randomUUID().toString().replace("-", "");
    try (CountingBackend backend = CountingBackend.start()) {
      JsonObject config = GatewayHarness.config(backend.endpoint());
      config.getJsonArray("routes").getJsonObject(0).put("name", "api")
          .put("match", new JsonObject().put("pathPrefix", "/p/"));
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        try (RawClient client = new RawClient(gateway.port())) {
          for (int i = 0; i < 5; i++) {
            assertEquals(200, get(client, "/p/" + marker + "/" + i + "?q=" + marker));
          }
          for (int i = 0; i < 2; i++) {
            assertEquals(404, get(client, "/nomatch-" + marker + "-" + i));
          }
        }
        String endpoint = backend.endpoint();
        Set<String> upstreamLabels = Set.of("upstream", "endpoint");
        String[] ep = {"upstream", "up", "endpoint", endpoint};

        Await.until("every request counted", Duration.ofSeconds(5), () -> {
          try {
            return find(scrape(gateway), "keepgate_requests_total", "route", "api", "code", "200").stream()
                .mapToDouble(Sample::value).sum() == 5;
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        });
        List<Sample> samples = scrape(gateway);

        Set<String> withState = Set.of("upstream", "endpoint", "state");
        Sample active = one(samples, withState, "keepgate_upstream_connections", cat(ep, "state", "active"));
        Sample idle = one(samples, withState, "keepgate_upstream_connections", cat(ep, "state", "idle"));
        assertEquals(0, active.value(), "nothing in flight");
        assertEquals(backend.open(), (int) (active.value() + idle.value()), "connections open at the backend");

        Sample opened = one(samples, upstreamLabels, "keepgate_upstream_connections_opened_total", ep);
        assertEquals(backend.accepted(), (int) opened.value(), "connections the backend accepted");
        Set<String> withReason = Set.of("upstream", "endpoint", "reason");
        for (String reason : List.of("idle_timeout", "max_lifetime", "max_requests", "keepalive_dead",
            "upstream_closed", "error")) {
          one(samples, withReason, "keepgate_upstream_connections_closed_total", cat(ep, "reason", reason));
        }
        assertEquals(0, one(samples, upstreamLabels, "keepgate_upstream_pending_requests", ep).value());
        assertEquals(1, one(samples, upstreamLabels, "keepgate_upstream_healthy", ep).value());

        Set<String> routeLabels = Set.of("route", "code");
        assertEquals(5, one(samples, routeLabels, "keepgate_requests_total", "route", "api", "code", "200").value());
        assertEquals(2, one(samples, routeLabels, "keepgate_requests_total", "route", "no_route", "code", "404").value(),
            "unrouted requests counted under route=\"no_route\"");
        List<Sample> buckets = find(samples, "keepgate_request_duration_seconds_bucket", "route", "api", "code", "200");
        assertTrue(buckets.size() >= 10, "histogram buckets: " + buckets);
        assertTrue(buckets.stream().allMatch(b -> b.labels().keySet().equals(Set.of("route", "code", "le"))));
        assertTrue(buckets.stream().anyMatch(b -> b.labels().get("le").equals("+Inf") && b.value() == 5));
        assertEquals(5,
            one(samples, routeLabels, "keepgate_request_duration_seconds_count", "route", "api", "code", "200").value());
        assertTrue(
            one(samples, routeLabels, "keepgate_request_duration_seconds_sum", "route", "api", "code", "200").value() > 0);

        assertFalse(find(samples, "jvm_memory_used_bytes").isEmpty(), "a standard JVM meter");
        assertTrue(samples.stream().anyMatch(s -> s.name().startsWith("vertx_pool_")), "a Vert.x pool meter");
        assertTrue(samples.stream().anyMatch(s -> s.name().equals("keepgate_client_connections")),
            "open client connections");

        String text = gateway.admin("/metrics").body();
        assertFalse(text.contains(marker), "a request path or query appears in /metrics");
        for (Sample s : samples) {
          for (String value : s.labels().values()) {
            assertFalse(value.startsWith("/p/") || value.startsWith("/nomatch"), s + " has a path as a label value");
          }
        }
      }
    }
  }

  private static String[] cat(String[] pairs, String... more) {
    String[] all = new String[pairs.length + more.length];
    System.arraycopy(pairs, 0, all, 0, pairs.length);
    System.arraycopy(more, 0, all, pairs.length, more.length);
    return all;
  }

  @Test
  void adminPoolsCountsWhatTheBackendSaw() throws Exception {
    try (CountingBackend backend = CountingBackend.start()) {
      backend.handler(request -> backend.vertx().setTimer(5, id -> request.response().end("ok")));
      try (GatewayHarness gateway = GatewayHarness.start(GatewayHarness.config(backend.endpoint()))) {
        ExecutorService clients = Executors.newFixedThreadPool(3);
        List<Future<Integer>> oks = new ArrayList<>();
        for (int c = 0; c < 3; c++) {
          oks.add(clients.submit(() -> {
            int ok = 0;
            try (RawClient client = new RawClient(gateway.port())) {
              for (int i = 0; i < 10; i++) {
                ok += get(client, "/pool/" + i) == 200 ? 1 : 0;
              }
            }
            return ok;
          }));
        }
        int ok = 0;
        for (Future<Integer> f : oks) {
          ok += f.get(30, TimeUnit.SECONDS);
        }
        clients.shutdown();
        assertEquals(30, ok);
        assertEquals(30, backend.requests());

        String endpoint = backend.endpoint();
        Await.equal("requests in /admin/pools", Duration.ofSeconds(5), backend.requests(),
            () -> gateway.pool(endpoint).getInteger("requests"));
        Await.equal("idle connections in /admin/pools", Duration.ofSeconds(5), backend.open(),
            () -> gateway.pool(endpoint).getInteger("idle"));
        JsonObject pool = gateway.pool(endpoint);
        assertEquals(backend.accepted(), pool.getInteger("opened"), "opened = accepted at the backend: " + pool);
        assertEquals(0, pool.getInteger("active"), pool.encode());
        assertEquals(0, pool.getInteger("pending"), pool.encode());
        assertEquals(true, pool.getBoolean("healthy"), pool.encode());
        JsonObject closed = pool.getJsonObject("closed");
        for (String reason : List.of("idle_timeout", "max_lifetime", "max_requests", "keepalive_dead",
            "upstream_closed", "error")) {
          assertEquals(0, closed.getInteger(reason), reason + " in " + pool.encode());
        }
      }
    }
  }

  @Test
  void adminConfigIsTheEffectiveConfigWithDefaultsAndReadsBackToTheSameConfig() throws Exception {
    try (CountingBackend backend = CountingBackend.start()) {
      JsonObject config = GatewayHarness.config(backend.endpoint());
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        HttpResponse<String> response = gateway.admin("/admin/config");
        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("content-type").orElse("").startsWith("application/json"));
        JsonObject effective = new JsonObject(response.body());

        JsonObject upstream = effective.getJsonArray("upstreams").getJsonObject(0);
        assertEquals(1024, upstream.getJsonObject("pool").getInteger("maxPendingRequests"), "default filled in");
        assertEquals(64, upstream.getJsonObject("pool").getInteger("maxConnectionsPerEndpoint"));
        assertEquals("round-robin", upstream.getString("loadBalancer"));
        assertEquals(new JsonArray().add(backend.endpoint()), upstream.getJsonArray("endpoints"));
        assertEquals(30, upstream.getJsonObject("tcpKeepAlive").getInteger("idleSeconds"));
        assertEquals(10000, effective.getJsonObject("server").getInteger("headerReadTimeoutMs"));
        assertEquals(16384, effective.getJsonObject("server").getInteger("maxHeaderBytes"));
        assertEquals("/", effective.getJsonArray("routes").getJsonObject(0).getJsonObject("match").getString("pathPrefix"));
        assertEquals(false, effective.getJsonObject("cluster").getBoolean("enabled"));

        GatewayConfig readBack = ConfigLoader.parse(response.body());
        assertEquals(ConfigLoader.parse(config.encode()), readBack, "the same config as the one the gateway runs");
        assertEquals(effective, ConfigLoader.toJson(readBack), "and it writes back to the same JSON");
      }
    }
  }
}
