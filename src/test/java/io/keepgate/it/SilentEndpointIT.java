package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.CountingBackend;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.RawClient;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The claim under test: an endpoint that accepts connections and never answers (a frozen process,
 * a wedged backend) costs its requests little. Requests waiting for its connections move to a
 * healthy endpoint when it is ejected; with {@code perTryTimeoutMs}, an idempotent request it
 * leaves unanswered goes once more to another endpoint after that long, counted as a retry and as
 * a failure towards ejection, while a non-idempotent one is never sent twice.
 */
class SilentEndpointIT {

  /** Two endpoints, the silent one first (round robin from one event loop starts there). */
  private static JsonObject config(CountingBackend silent, CountingBackend good) {
    JsonObject config = GatewayHarness.config(silent.endpoint(), good.endpoint());
    config.getJsonObject("server").put("eventLoops", 1);
    GatewayHarness.upstream(config).put("healthCheck", new JsonObject().put("intervalMs", 60_000));
    return config;
  }

  private static CountingBackend silentBackend() throws Exception {
    return CountingBackend.start().handler(request -> { }); // reads the request, never answers
  }

  private static CountingBackend goodBackend() throws Exception {
    return CountingBackend.start().handler(request -> request.response().end("good"));
  }

  private static RawClient.Response send(GatewayHarness gateway, String method) throws Exception {
    try (RawClient client = new RawClient(gateway.port())) {
      client.timeout(20_000);
      client.send(method + " / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
      return client.readResponse();
    }
  }

  @Test
  void requestsWaitingForAnEjectedEndpointGoToAHealthyOne() throws Exception {
    try (CountingBackend silent = silentBackend(); CountingBackend good = goodBackend()) {
      JsonObject config = config(silent, good);
      GatewayHarness.upstream(config).put("responseTimeoutMs", 1000);
      GatewayHarness.upstream(config).getJsonObject("healthCheck").put("unhealthyThreshold", 1);
      GatewayHarness.pool(config).put("maxConnectionsPerEndpoint", 1); // the silent endpoint's requests queue
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        List<CompletableFuture<RawClient.Response>> requests = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
          requests.add(CompletableFuture.supplyAsync(() -> {
            try {
              return send(gateway, "GET");
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          }));
        }
        List<Integer> statuses = new ArrayList<>();
        for (CompletableFuture<RawClient.Response> request : requests) {
          statuses.add(request.get(20, TimeUnit.SECONDS).status());
        }
        assertEquals(1, statuses.stream().filter(s -> s == 504).count(),
            "only the request on the silent connection timed out: " + statuses);
        assertEquals(9, statuses.stream().filter(s -> s == 200).count(), "the queued ones moved: " + statuses);
        assertEquals(1, silent.requests(), "the silent endpoint got one request, the rest never reached it");
        assertEquals(9, good.requests());
      }
    }
  }

  @Test
  void anIdempotentRequestLeftUnansweredGoesToAnotherEndpointAfterThePerTryTimeout() throws Exception {
    try (CountingBackend silent = silentBackend(); CountingBackend good = goodBackend()) {
      JsonObject config = config(silent, good);
      GatewayHarness.upstream(config).put("responseTimeoutMs", 2000).put("perTryTimeoutMs", 300);
      GatewayHarness.upstream(config).getJsonObject("healthCheck").put("unhealthyThreshold", 3);
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        String silentLabel = "endpoint=\"" + silent.endpoint() + "\"";

        long start = System.nanoTime();
        assertEquals(504, send(gateway, "POST").status(), "a POST is never sent twice: the response timeout decides");
        assertTrue(System.nanoTime() - start >= Duration.ofMillis(2000).toNanos());
        assertEquals(0, good.requests());

        List<Long> silentTries = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
          int silentBefore = silent.requests();
          long began = System.nanoTime();
          RawClient.Response response = send(gateway, "GET");
          assertEquals(200, response.status(), response.head());
          assertEquals("good", response.body());
          if (silent.requests() > silentBefore) {
            silentTries.add((System.nanoTime() - began) / 1_000_000);
          }
        }
        assertEquals(2, silentTries.size(), "GETs reached the silent endpoint until its third failure ejected it");
        for (long millis : silentTries) {
          assertTrue(millis >= 300 && millis < 2000, "a GET that met the silent endpoint took " + millis
              + " ms: the per-try timeout, not the response timeout");
        }
        assertEquals(2.0, gateway.metric("keepgate_upstream_retries_total", silentLabel));
        assertEquals(0.0, gateway.metric("keepgate_upstream_healthy", silentLabel), "ejected after 3 failures");
        assertEquals(3.0, gateway.metric("keepgate_upstream_connections_closed_total", silentLabel, "reason=\"error\""));
      }
    }
  }
}
