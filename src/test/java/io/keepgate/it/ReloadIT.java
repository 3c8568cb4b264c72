package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.Await;
import io.keepgate.testing.CountingBackend;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.KeepAliveClients;
import io.keepgate.testing.RawClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The claim under test: a changed config file (written, or swapped in through a symlink as a
 * Kubernetes ConfigMap update does) is applied without dropping an in-flight request; upstreams
 * whose settings did not change keep their pooled connections (counted at the backend); changed
 * upstreams drain their old pool; an invalid config is rejected with path-named problems and
 * counted, and the old config keeps serving; a file that cannot be read is counted apart, as
 * unreadable, never as rejected.
 */
class ReloadIT {

  private static JsonObject twoUpstreams(CountingBackend a, CountingBackend b) {
    JsonObject config = GatewayHarness.config(a.endpoint());
    config.getJsonObject("server").put("eventLoops", 1);
    config.getJsonArray("upstreams").add(new JsonObject().put("name", "other")
        .put("endpoints", new JsonArray().add(b.endpoint())));
    config.put("routes", new JsonArray()
        .add(new JsonObject().put("name", "other").put("match", new JsonObject().put("pathPrefix", "/other/"))
            .put("upstream", "other"))
        .add(new JsonObject().put("name", "all").put("upstream", "up")));
    return config;
  }

  private static RawClient.Response get(GatewayHarness gateway, String path) throws Exception {
    try (RawClient client = new RawClient(gateway.port())) {
      client.send("GET " + path + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
      return client.readResponse();
    }
  }

  private static void write(Path file, JsonObject config) throws Exception {
    Path temp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(temp, config.encodePrettily());
    Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  private static String version(GatewayHarness gateway) throws Exception {
    return gateway.admin("/admin/config").headers().firstValue("X-Keepgate-Config-Version").orElse("?");
  }

  @Test
  void aValidConfigIsAppliedWithoutDroppingAnInFlightRequestAndUnchangedUpstreamsKeepTheirConnections(
      @TempDir Path dir) throws Exception {
    try (CountingBackend a = CountingBackend.start(); CountingBackend b = CountingBackend.start()) {
      a.handler(request -> {
        long delay = request.path().equals("/slow") ? 1500 : 1;
        a.vertx().setTimer(delay, id -> request.response().end("a"));
      });
      b.handler(request -> request.response().end("b"));
      Path file = dir.resolve("keepgate.json");
      JsonObject config = twoUpstreams(a, b);
      write(file, config);
      try (GatewayHarness gateway = GatewayHarness.startWatching(file)) {
        assertEquals("a", get(gateway, "/x").body());
        assertEquals("b", get(gateway, "/other/x").body());
        CompletableFuture<RawClient.Response> inFlight = CompletableFuture.supplyAsync(() -> {
          try {
            return get(gateway, "/slow");
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
        Await.until("the slow request reached the backend", Duration.ofSeconds(5), () -> a.requests() == 2);

        // change upstream "other" and add a route; upstream "up" is unchanged
        config.getJsonArray("upstreams").getJsonObject(1).put("pool", new JsonObject().put("idleTimeoutMs", 20000));
        config.getJsonArray("routes").add(0, new JsonObject().put("name", "added")
            .put("match", new JsonObject().put("pathPrefix", "/added/")).put("upstream", "up").put("stripPrefix", "/added"));
        write(file, config);
        HttpResponse<String> reload = gateway.adminPost("/admin/reload");
        assertEquals(200, reload.statusCode(), reload.body());
        JsonObject outcome = new JsonObject(reload.body());
        assertTrue(outcome.getString("result").equals("applied") || outcome.getString("result").equals("unchanged"),
            "applied now, or already by the file watcher: " + outcome);
        assertEquals("2", version(gateway));

        RawClient.Response slow = inFlight.get(10, TimeUnit.SECONDS);
        assertEquals(200, slow.status(), "the in-flight request finished across the reload");
        assertEquals("a", slow.body());
        assertEquals("a", get(gateway, "/added/y").body(), "the new route serves");
        assertEquals("a", get(gateway, "/z").body());
        assertEquals(1, a.accepted(), "upstream \"up\" kept its pooled connection across the reload");
        assertEquals("b", get(gateway, "/other/again").body());
        assertEquals(2, b.accepted(), "upstream \"other\" changed: its old pool drained, a new connection opened");
        Await.equal("the old pool of \"other\" closed its idle connection", Duration.ofSeconds(5), 1, b::open);
        assertEquals(1.0, gateway.metric("keepgate_config_reloads_total", "result=\"applied\""));

        // the changed upstream's series are still served, and count its old pool and its new one
        String other = "upstream=\"other\"";
        assertEquals(2.0, gateway.metric("keepgate_upstream_connections_opened_total", other),
            "one connection by the old pool, one by the new");
        assertEquals(2.0, gateway.metric("keepgate_upstream_requests_total", other));
        assertEquals(1.0, gateway.metric("keepgate_upstream_connections_closed_total", other, "reason=\"shutdown\""),
            "the old pool's idle connection closed with the pool");
        assertEquals(1.0, gateway.metric("keepgate_upstream_connections", other, "state=\"idle\""),
            "the gauge counts the new pool's connection");
        assertEquals(1.0, gateway.metric("keepgate_upstream_healthy", other));
      }
    }
  }

  @Test
  void requestsQueuedForAChangedUpstreamMoveToItsNewPoolUnderLoad(@TempDir Path dir) throws Exception {
    int clients = 16;
    try (CountingBackend backend = CountingBackend.start()) {
      backend.handler(request -> backend.vertx().setTimer(2, id -> request.response().end("ok")));
      Path file = dir.resolve("keepgate.json");
      JsonObject config = GatewayHarness.config(backend.endpoint());
      // 16 clients on 2 connections: 14 requests are always waiting in the pool's queue
      JsonObject pool = GatewayHarness.pool(config).put("maxConnectionsPerEndpoint", 2).put("maxPendingRequests", 100);
      write(file, config);
      try (GatewayHarness gateway = GatewayHarness.startWatching(file);
          KeepAliveClients load = KeepAliveClients.start(gateway.port(), clients, i -> "/" + i)) {
        for (int change = 1; change <= 4; change++) {
          int before = load.answered();
          Await.until("requests flow", Duration.ofSeconds(10), () -> load.answered() >= before + 200);
          pool.put("idleTimeoutMs", 20_000 + change); // a changed upstream: its pool is rebuilt
          write(file, config);
          HttpResponse<String> reload = gateway.adminPost("/admin/reload");
          assertEquals(200, reload.statusCode(), reload.body());
          assertEquals(Integer.toString(change + 1), version(gateway));
        }
        int before = load.answered();
        Await.until("requests flow after the last change", Duration.ofSeconds(10), () -> load.answered() >= before + 200);
        for (KeepAliveClients.Result client : load.stop(Duration.ofSeconds(20))) {
          assertEquals(List.of(), client.failures(), "no request was dropped or refused by a reload");
        }
        Await.until("the old pools' connections all closed", Duration.ofSeconds(10), () -> backend.open() <= 2);
        assertTrue(gateway.metric("keepgate_upstream_connections_closed_total", "reason=\"shutdown\"") >= 8,
            "each old pool closed its connections as their exchanges ended");
      }
    }
  }

  @Test
  void anInvalidConfigIsRejectedWithItsProblemsAndTheOldOneKeepsServing(@TempDir Path dir) throws Exception {
    try (CountingBackend a = CountingBackend.start(); CountingBackend b = CountingBackend.start()) {
      Path file = dir.resolve("keepgate.json");
      JsonObject config = twoUpstreams(a, b);
      write(file, config);
      try (GatewayHarness gateway = GatewayHarness.startWatching(file)) {
        assertEquals(200, get(gateway, "/x").status());
        config.getJsonArray("routes").getJsonObject(0).put("upstream", "billing");
        GatewayHarness.pool(config).put("idleTimeoutMs", -5);
        write(file, config);
        HttpResponse<String> reload = gateway.adminPost("/admin/reload");
        JsonObject outcome = new JsonObject(reload.body());
        if (outcome.getString("result").equals("unchanged")) { // the watcher got there first
          Await.equal("rejected by the watcher", Duration.ofSeconds(5), 1.0,
              () -> gateway.metric("keepgate_config_reloads_total", "result=\"rejected\""));
        } else {
          assertEquals(422, reload.statusCode());
          assertEquals(new JsonArray().add("upstreams[0].pool.idleTimeoutMs: -5 (expected: > 0)")
              .add("routes[0].upstream: no upstream named \"billing\""), outcome.getJsonArray("problems"));
        }
        assertEquals(1.0, gateway.metric("keepgate_config_reloads_total", "result=\"rejected\""));
        assertEquals("1", version(gateway), "the old config keeps serving");
        assertEquals(200, get(gateway, "/x").status());
        assertEquals(1, a.accepted(), "and keeps its pooled connection");
      }
    }
  }

  @Test
  void aConfigFileThatCannotBeReadIsNotTakenForAnInvalidOneAndTheOldConfigKeepsServing(@TempDir Path dir)
      throws Exception {
    try (CountingBackend a = CountingBackend.start(); CountingBackend b = CountingBackend.start()) {
      Path file = dir.resolve("keepgate.json");
      JsonObject config = twoUpstreams(a, b);
      write(file, config);
      try (GatewayHarness gateway = GatewayHarness.startWatching(file)) {
        assertEquals(200, get(gateway, "/x").status());
        // CI runs as root, where chmod 000 does not stop a read: a directory in the file's place
        // does (EISDIR), and so does a dangling symlink (a ConfigMap swap caught half done)
        Files.delete(file);
        Files.createDirectory(file);
        assertUnreadable(gateway, "a directory");
        Files.delete(file);
        Files.createSymbolicLink(file, dir.resolve("gone.json"));
        assertUnreadable(gateway, "a dangling symlink");

        assertEquals(0.0, gateway.metric("keepgate_config_reloads_total", "result=\"rejected\""),
            "an unreadable file is never counted as an invalid config");
        assertEquals("1", version(gateway), "the old config keeps serving");
        assertEquals(200, get(gateway, "/x").status());
        assertEquals(200, get(gateway, "/other/x").status());
        assertEquals(1, a.accepted(), "and keeps its pooled connection");

        write(file, config); // readable again, with the content it had
        HttpResponse<String> reload = gateway.adminPost("/admin/reload");
        assertEquals(200, reload.statusCode(), reload.body());
        assertEquals("unchanged", new JsonObject(reload.body()).getString("result"));
        assertEquals(0.0, gateway.metric("keepgate_config_reloads_total", "result=\"rejected\""));
      }
    }
  }

  /** POST /admin/reload answers 503 unreadable, and the unreadable count goes up. */
  private static void assertUnreadable(GatewayHarness gateway, String what) throws Exception {
    double before = gateway.metric("keepgate_config_reloads_total", "result=\"unreadable\"");
    HttpResponse<String> reload = gateway.adminPost("/admin/reload");
    assertEquals(503, reload.statusCode(), what + ": " + reload.body());
    JsonObject outcome = new JsonObject(reload.body());
    assertEquals("unreadable", outcome.getString("result"), what);
    assertEquals(1, outcome.getInteger("version"), what);
    assertEquals(1, outcome.getJsonArray("problems").size(), what + ": the I/O error is named: " + outcome);
    assertTrue(gateway.metric("keepgate_config_reloads_total", "result=\"unreadable\"") >= before + 1,
        what + ": counted as unreadable");
  }

  @Test
  void aConfigMapSymlinkSwapIsPickedUpByTheWatcher(@TempDir Path dir) throws Exception {
    try (CountingBackend a = CountingBackend.start(); CountingBackend b = CountingBackend.start()) {
      // the layout kubelet gives a ConfigMap volume: keepgate.json -> ..data/keepgate.json, ..data -> ..v1
      Path v1 = Files.createDirectory(dir.resolve("..v1"));
      JsonObject config = twoUpstreams(a, b);
      Files.writeString(v1.resolve("keepgate.json"), config.encodePrettily());
      Files.createSymbolicLink(dir.resolve("..data"), v1.getFileName());
      Path file = Files.createSymbolicLink(dir.resolve("keepgate.json"), Path.of("..data/keepgate.json"));
      try (GatewayHarness gateway = GatewayHarness.startWatching(file)) {
        assertEquals(200, get(gateway, "/x").status());
        config.getJsonArray("routes").add(0, new JsonObject().put("name", "swapped")
            .put("match", new JsonObject().put("pathPrefix", "/swapped/")).put("upstream", "other"));
        Path v2 = Files.createDirectory(dir.resolve("..v2"));
        Files.writeString(v2.resolve("keepgate.json"), config.encodePrettily());
        Path next = Files.createSymbolicLink(dir.resolve("..data_tmp"), v2.getFileName());
        Files.move(next, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);

        Await.equal("the watcher applied the swapped config", Duration.ofSeconds(5), "2", () -> {
          try {
            return version(gateway);
          } catch (Exception e) {
            return "?";
          }
        });
        assertEquals(200, get(gateway, "/swapped/x").status());
        assertEquals(1, b.requests(), "the swapped-in route sent it to upstream \"other\"");
      }
    }
  }
}
