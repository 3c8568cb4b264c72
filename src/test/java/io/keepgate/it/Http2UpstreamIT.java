package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.Await;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.TestCertificates;
import io.keepgate.testing.TestHttp2Backend;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The claim under test: an upstream with {@code protocol} h2c or h2 is reached over HTTP/2, its
 * requests multiplexed as streams over a few connections up to the backend's
 * SETTINGS_MAX_CONCURRENT_STREAMS (another connection opens only when those are exhausted, within
 * {@code maxConnectionsPerEndpoint}); a connection that misses its HTTP/2 PING closes as
 * {@code ping_timeout}; a stream the backend refused or left above a GOAWAY's last stream id goes
 * again on another connection whatever its method, while the streams below the GOAWAY finish. The
 * backends are Netty HTTP/2 servers started in the test; the clients speak HTTP/1.1 to keepgate.
 */
class Http2UpstreamIT {
  private static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir
  Path dir;

  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(WAIT).build();

  private static JsonObject h2cConfig(TestHttp2Backend backend) {
    JsonObject config = GatewayHarness.config(backend.endpoint());
    config.getJsonObject("server").put("eventLoops", 1); // one pool: connection counts are exact
    GatewayHarness.upstream(config).put("protocol", "h2c");
    return config;
  }

  private CompletableFuture<HttpResponse<String>> send(GatewayHarness gateway, String method, String path) {
    return client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + path))
        .method(method, HttpRequest.BodyPublishers.noBody()).timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void requestsShareHttp2ConnectionsAndANewOneOpensOnlyWhenTheStreamsAreExhausted() throws Exception {
    List<Runnable> held = new CopyOnWriteArrayList<>();
    AtomicBoolean holding = new AtomicBoolean(true);
    try (TestHttp2Backend backend = TestHttp2Backend.h2c(5, true)) {
      backend.handler((request, stream) -> {
        String path = request.uri();
        request.release();
        Runnable answer = () -> TestHttp2Backend.respond(stream, 200, "h2 " + path);
        if (holding.get()) {
          held.add(answer); // 15 streams open at once: 3 connections of 5
        } else {
          answer.run();
        }
      });
      JsonObject config = h2cConfig(backend);
      GatewayHarness.pool(config).put("maxConnectionsPerEndpoint", 3);
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
          responses.add(send(gateway, "GET", "/r/" + i));
        }
        Await.until("15 streams held at the backend", WAIT, () -> held.size() == 15);
        assertEquals(3, backend.accepted(), "3 connections of 5 streams each, the limit");
        assertEquals(5, backend.maxConcurrentStreams(), "each connection filled to its stream limit");
        Await.until("5 requests waiting for a stream", WAIT,
            () -> gateway.metric("keepgate_upstream_pending_requests") == 5);
        holding.set(false);
        held.forEach(Runnable::run);
        for (int i = 0; i < 20; i++) {
          HttpResponse<String> response = responses.get(i).get(10, TimeUnit.SECONDS);
          assertEquals(200, response.statusCode(), response.body());
          assertEquals("h2 /r/" + i, response.body());
        }
        assertEquals(3, backend.accepted(), "the waiting requests took streams on the same connections");
        assertEquals(20, backend.streams());
        assertEquals(20.0, gateway.metric("keepgate_upstream_requests_total"));
      }
    }
  }

  @Test
  void h2loadThroughHttp2OnBothSidesLosesNothingAndOpensConnectionsByTheStreamLimit() throws Exception {
    try (TestHttp2Backend backend = TestHttp2Backend.h2c(100, true)) {
      try (GatewayHarness gateway = GatewayHarness.start(h2cConfig(backend))) {
        // 4 client connections x 32 streams: 128 in flight, over backend connections of 100 streams
        Process h2load = new ProcessBuilder("h2load", "-n", "4000", "-c", "4", "-m", "32",
            "http://127.0.0.1:" + gateway.port() + "/load").redirectErrorStream(true).start();
        String output = new String(h2load.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(h2load.waitFor(60, TimeUnit.SECONDS), output);
        assertTrue(output.contains("4000 succeeded, 0 failed, 0 errored, 0 timeout"), output);
        assertTrue(output.contains("status codes: 4000 2xx"), output);
        assertEquals(4000, backend.streams());
        assertEquals(2, backend.accepted(), "128 streams in flight need two connections of 100, no more");
      }
    }
  }

  @Test
  void sequentialRequestsAreStreamsOfOneConnectionAndResponsesKeepTheirFraming() throws Exception {
    try (TestHttp2Backend backend = TestHttp2Backend.h2c(100, true)) {
      backend.handler((request, stream) -> {
        String path = request.uri();
        request.release();
        TestHttp2Backend.respond(stream, path.equals("/empty") ? 204 : 200, path.equals("/empty") ? "" : "h2 " + path);
      });
      try (GatewayHarness gateway = GatewayHarness.start(h2cConfig(backend))) {
        for (int i = 0; i < 10; i++) {
          HttpResponse<String> response = send(gateway, "GET", "/seq/" + i).get(10, TimeUnit.SECONDS);
          assertEquals(200, response.statusCode());
          assertEquals("h2 /seq/" + i, response.body());
          assertTrue(response.headers().firstValue("x-http2-stream-id").isEmpty(), "conversion headers stay inside");
        }
        HttpResponse<String> empty = send(gateway, "GET", "/empty").get(10, TimeUnit.SECONDS);
        assertEquals(204, empty.statusCode());
        assertEquals(1, backend.accepted(), "one connection for every request");
        assertEquals(11, backend.streams());
        HttpResponse<String> head = send(gateway, "HEAD", "/head").get(10, TimeUnit.SECONDS);
        assertEquals(200, head.statusCode());
        assertEquals("", head.body());
      }
    }
  }

  @Test
  void h2OverTlsIsChosenByAlpnAndABackendWithoutItIsA502WithTheReason() throws Exception {
    TestCertificates.Issued certificate = TestCertificates.issue(dir, "backend.example.test");
    try (TestHttp2Backend h2 = TestHttp2Backend.tls(certificate.certFile(), certificate.keyFile());
        TestHttp2Backend http1Only = TestHttp2Backend.tls(certificate.certFile(), certificate.keyFile(),
            ApplicationProtocolNames.HTTP_1_1)) {
      JsonObject config = GatewayHarness.config(h2.endpoint());
      config.getJsonObject("server").put("eventLoops", 1);
      JsonObject tls = new JsonObject().put("serverName", "backend.example.test")
          .put("caFile", certificate.certFile().toString());
      GatewayHarness.upstream(config).put("protocol", "h2").put("tls", tls); // h2 turns TLS on by itself
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        for (int i = 0; i < 5; i++) {
          HttpResponse<String> response = send(gateway, "GET", "/tls/" + i).get(10, TimeUnit.SECONDS);
          assertEquals(200, response.statusCode(), response.body());
          assertEquals("h2 /tls/" + i, response.body());
        }
        assertEquals(1, h2.accepted());
        assertEquals(1, gateway.pool(h2.endpoint()).getInteger("tlsHandshakes"), "one handshake for five streams");
      }
      GatewayHarness.upstream(config).put("endpoints", new io.vertx.core.json.JsonArray().add(http1Only.endpoint()));
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        HttpResponse<String> response = send(gateway, "GET", "/").get(10, TimeUnit.SECONDS);
        assertEquals(502, response.statusCode());
        assertTrue(response.body().contains("did not choose h2 by ALPN"), response.body());
      }
    }
  }

  @Test
  void aConnectionThatMissesItsPingClosesAsPingTimeoutAndOneThatAnswersStays() throws Exception {
    try (TestHttp2Backend silent = TestHttp2Backend.h2c(100, false);
        TestHttp2Backend answering = TestHttp2Backend.h2c(100, true)) {
      JsonObject config = GatewayHarness.config(silent.endpoint(), answering.endpoint());
      config.getJsonObject("server").put("eventLoops", 1);
      GatewayHarness.upstream(config).put("protocol", "h2c")
          .put("http2Ping", new JsonObject().put("intervalMs", 100).put("timeoutMs", 300))
          .put("loadBalancer", "round-robin");
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        assertEquals(200, send(gateway, "GET", "/a").get(10, TimeUnit.SECONDS).statusCode());
        assertEquals(200, send(gateway, "GET", "/b").get(10, TimeUnit.SECONDS).statusCode());
        Await.until("the silent backend's connection closed as ping_timeout", WAIT,
            () -> gateway.metric("keepgate_upstream_connections_closed_total", "reason=\"ping_timeout\"",
                "endpoint=\"" + silent.endpoint() + "\"") == 1.0);
        Await.until("the answering backend got several PINGs", WAIT, () -> answering.pings() >= 5);
        assertEquals(1, answering.open(), "a connection that answers its PINGs stays");
        assertEquals(0.0, gateway.metric("keepgate_upstream_connections_closed_total",
            "endpoint=\"" + answering.endpoint() + "\""));
        assertTrue(silent.pings() >= 1, "the silent backend was pinged");
      }
    }
  }

  @Test
  void aRefusedStreamGoesAgainWhateverItsMethod() throws Exception {
    AtomicBoolean refused = new AtomicBoolean();
    try (TestHttp2Backend backend = TestHttp2Backend.h2c(100, true)) {
      backend.handler((request, stream) -> {
        request.release();
        if (refused.compareAndSet(false, true)) {
          stream.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.REFUSED_STREAM));
        } else {
          TestHttp2Backend.respond(stream, 200, "processed once");
        }
      });
      try (GatewayHarness gateway = GatewayHarness.start(h2cConfig(backend))) {
        HttpResponse<String> response = send(gateway, "POST", "/order").get(10, TimeUnit.SECONDS);
        assertEquals(200, response.statusCode(), response.body());
        assertEquals("processed once", response.body());
        assertEquals(2, backend.streams());
        assertEquals(1.0, gateway.metric("keepgate_upstream_retries_total"));
      }
    }
  }

  @Test
  void aGoAwayLetsTheStreamsBelowItFinishAndSendsTheOthersToANewConnection() throws Exception {
    List<Http2StreamChannel> heldStreams = new CopyOnWriteArrayList<>();
    AtomicBoolean goneAway = new AtomicBoolean();
    try (TestHttp2Backend backend = TestHttp2Backend.h2c(100, true)) {
      backend.handler((request, stream) -> {
        String path = request.uri();
        request.release();
        if (path.equals("/hold")) {
          heldStreams.add(stream);
        } else if (goneAway.compareAndSet(false, true)) {
          // GOAWAY naming the held stream (id 1) as the last processed: this one (id 3) was not
          goAway(stream.parent(), stream.stream().id() - 2);
        } else {
          TestHttp2Backend.respond(stream, 200, "after goaway " + path);
        }
      });
      try (GatewayHarness gateway = GatewayHarness.start(h2cConfig(backend))) {
        CompletableFuture<HttpResponse<String>> held = send(gateway, "GET", "/hold");
        Await.until("the first stream held", WAIT, () -> heldStreams.size() == 1);
        HttpResponse<String> moved = send(gateway, "POST", "/moved").get(10, TimeUnit.SECONDS);
        assertEquals(200, moved.statusCode(), moved.body());
        assertEquals("after goaway /moved", moved.body());
        assertEquals(2, backend.accepted(), "the unprocessed stream went on a new connection");
        TestHttp2Backend.respond(heldStreams.get(0), 200, "finished below the goaway");
        HttpResponse<String> finished = held.get(10, TimeUnit.SECONDS);
        assertEquals(200, finished.statusCode());
        assertEquals("finished below the goaway", finished.body());
        Await.until("the connection that went away closed after its last stream", WAIT,
            () -> gateway.metric("keepgate_upstream_connections_closed_total", "reason=\"goaway\"") == 1.0);
        assertEquals(1.0, gateway.metric("keepgate_upstream_retries_total"));
        assertEquals(200, send(gateway, "GET", "/next").get(10, TimeUnit.SECONDS).statusCode());
        assertEquals(2, backend.accepted(), "new streams use the new connection");
      }
    }
  }

  /** Writes a GOAWAY frame straight to the socket, past the backend's codec (which would name its newest stream). */
  private static void goAway(Channel connection, int lastStreamId) {
    byte[] frame = {0, 0, 8, 0x7, 0, 0, 0, 0, 0,
        (byte) (lastStreamId >>> 24), (byte) (lastStreamId >>> 16), (byte) (lastStreamId >>> 8), (byte) lastStreamId,
        0, 0, 0, 0};
    connection.pipeline().firstContext().writeAndFlush(Unpooled.wrappedBuffer(frame));
  }

}
