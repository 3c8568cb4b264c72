package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.Await;
import io.keepgate.testing.CountingBackend;
import io.keepgate.testing.Curl;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.RawClient;
import io.keepgate.testing.RawHttp2Client;
import io.keepgate.testing.TestCertificates;
import io.netty.handler.codec.http2.Http2Headers;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The claim under test: with {@code server.http2} on, clients speak HTTP/2, by ALPN on the TLS
 * listener and by prior knowledge on the cleartext one, while HTTP/1.1 keeps working on both; each
 * stream is one request to the HTTP/1.1 backend, with its body and its response intact, many
 * streams share one client connection, and the backend never sees an HTTP/2 artefact. Real
 * clients: curl and the JDK's HttpClient.
 */
class Http2IT {
  /** Requests sent at once: within the 150 concurrent streams allowed (the JDK client fails what exceeds it). */
  private static final int STREAMS = 120;

  @TempDir
  Path dir;

  /** HTTP/2 on both listeners, in front of {@code backend} (null: an endpoint where nothing listens). */
  private JsonObject config(CountingBackend backend, TestCertificates.Issued certificate) {
    JsonObject config = GatewayHarness.config(backend == null ? "127.0.0.1:1" : backend.endpoint());
    config.getJsonObject("server").put("http2", new JsonObject().put("enabled", true).put("maxConcurrentStreams", 150))
        .put("tls", new JsonObject().put("enabled", true).put("port", 0).put("certificates", new JsonArray()
            .add(new JsonObject().put("certFile", certificate.certFile().toString())
                .put("keyFile", certificate.keyFile().toString()))));
    return config;
  }

  /** A backend that answers with what it saw: method, path, protocol, body length, and any x-http2-* header. */
  private static CountingBackend echoingBackend() throws Exception {
    CountingBackend backend = CountingBackend.start();
    backend.handler(request -> request.body().onSuccess(body -> {
      String http2Headers = request.headers().names().stream().filter(n -> n.toLowerCase().startsWith("x-http2"))
          .toList().toString();
      request.response().end(request.method() + " " + request.uri() + " " + request.version() + " body=" + body.length()
          + " proto=" + request.getHeader("X-Forwarded-Proto") + " leaked=" + http2Headers);
    }));
    return backend;
  }

  @Test
  void curlSpeaksHttp2ByPriorKnowledgeAndByAlpnAndHttp11StillWorks() throws Exception {
    TestCertificates.Issued certificate = TestCertificates.issue(dir, "gateway.example.test");
    try (CountingBackend backend = echoingBackend();
        GatewayHarness gateway = GatewayHarness.start(config(backend, certificate))) {
      String h2c = Curl.run("-i", "--http2-prior-knowledge", "http://127.0.0.1:" + gateway.port() + "/a?x=1");
      assertTrue(h2c.startsWith("HTTP/2 200"), h2c);
      assertTrue(h2c.endsWith("GET /a?x=1 HTTP_1_1 body=0 proto=http leaked=[]"), h2c);

      String h2 = Curl.run("-i", "--http2", "--cacert", certificate.certFile().toString(),
          "--resolve", "gateway.example.test:" + gateway.tlsPort() + ":127.0.0.1",
          "-d", "x".repeat(100_000), "https://gateway.example.test:" + gateway.tlsPort() + "/upload");
      assertTrue(h2.startsWith("HTTP/2 200"), h2);
      assertTrue(h2.endsWith("POST /upload HTTP_1_1 body=100000 proto=https leaked=[]"), h2);

      String http11 = Curl.run("-i", "--http1.1", "http://127.0.0.1:" + gateway.port() + "/b");
      assertTrue(http11.startsWith("HTTP/1.1 200"), http11);
      try (RawClient raw = new RawClient(gateway.port())) {
        raw.send("GET /c HTTP/1.1\r\nHost: test\r\n\r\n");
        assertEquals(200, raw.readResponse().status(), "HTTP/1.1 beside the HTTP/2 preface detector");
      }
      String tls11 = Curl.run("-i", "--http1.1", "--cacert", certificate.certFile().toString(),
          "--resolve", "gateway.example.test:" + gateway.tlsPort() + ":127.0.0.1",
          "https://gateway.example.test:" + gateway.tlsPort() + "/d");
      assertTrue(tls11.startsWith("HTTP/1.1 200"), tls11);
      assertEquals(5, backend.requests());
    }
  }

  @Test
  void manyConcurrentStreamsShareOneClientConnection() throws Exception {
    TestCertificates.Issued certificate = TestCertificates.issue(dir, "localhost"); // the JDK client verifies the name
    try (CountingBackend backend = echoingBackend()) {
      JsonObject config = config(backend, certificate);
      GatewayHarness.pool(config).put("maxConnectionsPerEndpoint", 8);
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2)
            .sslContext(certificate.trustingClient()).connectTimeout(Duration.ofSeconds(5)).build();
        URI base = URI.create("https://localhost:" + gateway.tlsPort());
        // one request first: the JDK client opens a connection per request it starts before its first
        // HTTP/2 connection is up
        assertEquals(200, client.send(HttpRequest.newBuilder(base.resolve("/warm")).build(),
            HttpResponse.BodyHandlers.ofString()).statusCode());
        Map<Integer, String> bodies = new ConcurrentHashMap<>();
        List<CompletableFuture<?>> calls = new ArrayList<>();
        for (int i = 0; i < STREAMS; i++) {
          int n = i;
          calls.add(client.sendAsync(HttpRequest.newBuilder(base.resolve("/item/" + n)).timeout(Duration.ofSeconds(20))
                  .build(), HttpResponse.BodyHandlers.ofString())
              .thenAccept(response -> {
                assertEquals(HttpClient.Version.HTTP_2, response.version());
                assertEquals(200, response.statusCode());
                bodies.put(n, response.body());
              }));
        }
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        for (int i = 0; i < STREAMS; i++) {
          assertEquals("GET /item/" + i + " HTTP_1_1 body=0 proto=https leaked=[]", bodies.get(i));
        }
        assertEquals(STREAMS + 1, backend.requests());
        assertEquals(1.0, gateway.metric("keepgate_client_connections"),
            STREAMS + " concurrent requests on one HTTP/2 connection, still open, its streams not counted as connections");
        assertTrue(backend.accepted() <= 8, "the streams shared at most the pool's 8 connections to the HTTP/1.1 backend: "
            + backend.accepted());
      }
    }
  }

  @Test
  void anIdleConnectionClosesAfterTheIdleTimeoutAndADrainLetsOpenStreamsFinish() throws Exception {
    TestCertificates.Issued certificate = TestCertificates.issue(dir, "localhost");
    try (CountingBackend backend = CountingBackend.start()) {
      backend.handler(request -> backend.vertx().setTimer(request.path().equals("/slow") ? 800 : 1,
          id -> request.response().end("done " + request.path())));
      JsonObject config = config(backend, certificate);
      config.getJsonObject("server").put("idleTimeoutMs", 500);
      GatewayHarness gateway = GatewayHarness.start(config);
      CompletableFuture<Void> drained = null;
      try {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2)
            .sslContext(certificate.trustingClient()).build();
        URI base = URI.create("https://localhost:" + gateway.tlsPort());
        assertEquals("done /fast", client.send(HttpRequest.newBuilder(base.resolve("/fast")).build(),
            HttpResponse.BodyHandlers.ofString()).body());
        Await.until("an HTTP/2 connection with no stream closes after idleTimeoutMs", Duration.ofSeconds(5),
            () -> gateway.metric("keepgate_client_connections") == 0.0);

        // curl, not the JDK client: JDK 17's fails its open streams on any GOAWAY, whatever their ids
        Process slow = new ProcessBuilder("curl", "-sS", "-i", "--max-time", "10", "--http2-prior-knowledge",
            "http://127.0.0.1:" + gateway.port() + "/slow").redirectErrorStream(true).start();
        Await.until("the slow stream reached the backend", Duration.ofSeconds(5), () -> backend.requests() == 2);
        drained = CompletableFuture.runAsync(gateway::close);
        String output = new String(slow.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(slow.waitFor(10, TimeUnit.SECONDS), output);
        assertEquals(0, slow.exitValue(), "curl: " + output);
        assertTrue(output.startsWith("HTTP/2 200") && output.endsWith("done /slow"),
            "the drain let the open stream finish: " + output);
        drained.get(10, TimeUnit.SECONDS);
      } finally {
        if (drained == null) {
          gateway.close();
        }
      }
    }
  }

  @Test
  void aRapidResetFloodEndsTheConnectionWithGoAwayAndIsCounted() throws Exception {
    TestCertificates.Issued certificate = TestCertificates.issue(dir, "localhost");
    try (CountingBackend backend = CountingBackend.start();
        GatewayHarness gateway = GatewayHarness.start(config(backend, certificate));
        RawHttp2Client client = new RawHttp2Client(gateway.port())) {
      for (int stream = 1; stream < 2 * 300; stream += 2) { // 300 streams opened and cancelled at once
        client.get(stream, "/").rst(stream, 0x8); // CANCEL
      }
      client.flush();
      assertEquals(0xb, client.readUntil(RawHttp2Client.GOAWAY, 0).errorCode(), "GOAWAY ENHANCE_YOUR_CALM");
      assertTrue(client.closedByServer(), "and the connection closes");
      Await.until("counted", Duration.ofSeconds(5),
          () -> gateway.metric("keepgate_http2_goaways_total", "error=\"enhance_your_calm\"") == 1.0);
    }
  }

  @Test
  void streamsPastTheLimitAreRefusedAndOversizedHeadsNeverReachTheBackend() throws Exception {
    TestCertificates.Issued certificate = TestCertificates.issue(dir, "localhost");
    try (CountingBackend backend = CountingBackend.start()) {
      backend.handler(request -> backend.vertx().setTimer(request.path().equals("/slow") ? 1000 : 1,
          id -> request.response().end("done " + request.path())));
      JsonObject config = config(backend, certificate);
      config.getJsonObject("server").put("maxHeaderBytes", 2048)
          .getJsonObject("http2").put("maxConcurrentStreams", 2);
      try (GatewayHarness gateway = GatewayHarness.start(config);
          RawHttp2Client client = new RawHttp2Client(gateway.port())) {
        client.settled().get(1, "/slow").get(3, "/slow").get(5, "/slow").flush();
        RawHttp2Client.Frame refused = client.readUntil(RawHttp2Client.RST_STREAM, 5);
        assertEquals(0x7, refused.errorCode(), "the third concurrent stream: REFUSED_STREAM");
        assertEquals(200, Integer.parseInt(client.headers(client.readUntil(RawHttp2Client.HEADERS, 1)).status().toString()));
        assertEquals(200, Integer.parseInt(client.headers(client.readUntil(RawHttp2Client.HEADERS, 3)).status().toString()));

        // a head over maxHeaderBytes (2048) but within Netty's GOAWAY margin (a quarter more): 431 for that stream
        client.get(7, "/big-head", "x-filler", "y".repeat(2200)).flush();
        RawHttp2Client.Frame tooBig = client.read();
        while (tooBig.stream() != 7 && tooBig.type() != RawHttp2Client.GOAWAY) {
          tooBig = client.read(); // the rest of streams 1 and 3
        }
        assertEquals(RawHttp2Client.HEADERS, tooBig.type(), "the stream is answered, the connection kept: " + tooBig);
        assertEquals("431", client.headers(tooBig).status().toString());
        client.get(9, "/after").flush();
        assertEquals("200", client.headers(client.readUntil(RawHttp2Client.HEADERS, 9)).status().toString());
        // far over it: the connection ends
        client.get(11, "/bigger-head", "x-filler", "y".repeat(4000)).flush();
        long error = client.readUntil(RawHttp2Client.GOAWAY, 0).errorCode();
        assertTrue(error != 0, "a GOAWAY with an error, not a drain's NO_ERROR: " + error);
        assertEquals(3, backend.requests(), "only the admitted streams with heads in bounds reached the backend");
      }
    }
  }

  @Test
  void aClientThatStopsHalfWayThroughThePrefaceIsTimedOutLikeASlowHead() throws Exception {
    TestCertificates.Issued certificate = TestCertificates.issue(dir, "localhost");
    try (CountingBackend backend = CountingBackend.start()) {
      JsonObject config = config(backend, certificate);
      config.getJsonObject("server").put("headerReadTimeoutMs", 300);
      try (GatewayHarness gateway = GatewayHarness.start(config); RawClient client = new RawClient(gateway.port())) {
        client.send("PRI * HTTP/2.0\r\n"); // and nothing more
        assertEquals(408, client.readResponse().status(), "headerReadTimeoutMs, not the 60 s idle timeout");
      }
      try (GatewayHarness gateway = GatewayHarness.start(config); RawClient client = new RawClient(gateway.port())) {
        // the preface a byte every 100 ms (2.4 s in all): every byte must not restart the 300 ms clock
        try {
          for (char c : "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".toCharArray()) {
            client.send(String.valueOf(c));
            Thread.sleep(100); // the dribbling client's own pace
          }
        } catch (IOException closed) {
          // the gateway gave up on the head while this client still dribbled
        }
        assertEquals(408, client.readResponse().status(), "a dribbled preface is timed out as a whole");
      }
    }
  }

  @Test
  void anUploadAnsweredEarlyIsReadAndDroppedThenItsStreamIsReset() throws Exception {
    TestCertificates.Issued certificate = TestCertificates.issue(dir, "localhost");
    // no backend: nothing listens at the endpoint, so the 502 comes before any of the body is read
    try (GatewayHarness gateway = GatewayHarness.start(config(null, certificate));
        RawHttp2Client client = new RawHttp2Client(gateway.port())) {
      client.settled().post(1, "/upload").flush();
      assertEquals("502", client.headers(client.readUntil(RawHttp2Client.HEADERS, 1)).status().toString());
      byte[] chunk = new byte[16383];
      for (int i = 0; i < 4; i++) { // the whole first window of the stream
        client.frame(RawHttp2Client.DATA, 0, 1, chunk);
      }
      client.flush();
      client.readUntil(RawHttp2Client.WINDOW_UPDATE, 1); // read and dropped: the client may send more
      RawHttp2Client.Frame reset = client.readUntil(RawHttp2Client.RST_STREAM, 1);
      assertTrue(reset.errorCode() >= 0, "the stream is reset once the linger is over");
      client.get(3, "/after").flush();
      assertEquals("502", client.headers(client.readUntil(RawHttp2Client.HEADERS, 3)).status().toString(),
          "the connection goes on serving");
    }
  }

  @Test
  void responseTrailersReachTheClientAsATrailingHeadersFrame() throws Exception {
    TestCertificates.Issued certificate = TestCertificates.issue(dir, "localhost");
    try (CountingBackend backend = CountingBackend.start()) {
      backend.handler(request -> request.response().setChunked(true).putTrailer("grpc-status", "0")
          .putTrailer("grpc-message", "fine").end("payload"));
      try (GatewayHarness gateway = GatewayHarness.start(config(backend, certificate));
          RawHttp2Client client = new RawHttp2Client(gateway.port())) {
        client.get(1, "/with-trailers", "te", "trailers").flush();
        Http2Headers head = client.headers(client.readUntil(RawHttp2Client.HEADERS, 1));
        assertEquals("200", head.status().toString());
        assertEquals(null, head.get("transfer-encoding"), "no HTTP/1.1 framing header over HTTP/2");
        RawHttp2Client.Frame data = client.readUntil(RawHttp2Client.DATA, 1);
        assertEquals("payload", new String(data.payload(), StandardCharsets.UTF_8));
        RawHttp2Client.Frame trailing = client.readUntil(RawHttp2Client.HEADERS, 1);
        assertTrue(trailing.endsStream(), "the trailers end the stream");
        Http2Headers trailers = client.headers(trailing);
        assertEquals("0", trailers.get("grpc-status").toString());
        assertEquals("fine", trailers.get("grpc-message").toString());
      }
    }
  }

  @Test
  void aStreamWhoseClientDoesNotReadHoldsBackOnlyItsOwnUpstream() throws Exception {
    TestCertificates.Issued certificate = TestCertificates.issue(dir, "localhost");
    AtomicLong bigWritten = new AtomicLong();
    AtomicBoolean bigHeldBack = new AtomicBoolean();
    try (CountingBackend backend = CountingBackend.start()) {
      backend.handler(request -> {
        if (!request.path().equals("/big")) {
          request.response().end("small");
          return;
        }
        // 32 MiB in 64 KiB chunks, written only while the connection to keepgate takes them
        HttpServerResponse response = request.response().setChunked(true);
        Buffer chunk = Buffer.buffer(new byte[65536]);
        Runnable[] writer = new Runnable[1];
        writer[0] = () -> {
          while (bigWritten.get() < (32 << 20) && !response.writeQueueFull()) {
            response.write(chunk);
            bigWritten.addAndGet(chunk.length());
          }
          if (bigWritten.get() >= (32 << 20)) {
            response.end();
          } else {
            bigHeldBack.set(true);
            response.drainHandler(v -> writer[0].run());
          }
        };
        writer[0].run();
      });
      try (GatewayHarness gateway = GatewayHarness.start(config(backend, certificate));
          RawHttp2Client client = new RawHttp2Client(gateway.port())) {
        client.get(1, "/big").flush(); // stream 1 is never read past its first window (65,535 bytes)
        Await.until("the big response is held back at the backend", Duration.ofSeconds(10), bigHeldBack::get);

        client.get(3, "/small").flush(); // stream 3 on the same connection
        long bigReceived = 0;
        String small = null;
        while (small == null) {
          RawHttp2Client.Frame frame = client.read();
          if (frame.type() == RawHttp2Client.DATA && frame.stream() == 1) {
            bigReceived += frame.payload().length;
            client.windowUpdate(0, frame.payload().length).flush(); // the connection's window only
          } else if (frame.type() == RawHttp2Client.DATA && frame.stream() == 3) {
            small = new String(frame.payload(), StandardCharsets.UTF_8);
          }
        }
        assertEquals("small", small, "the other stream is served while stream 1 stalls");
        assertTrue(bigReceived <= 65535, "stream 1 got no more than its window: " + bigReceived);
        assertTrue(bigWritten.get() < (8 << 20), "the stalled stream holds its upstream back, not 32 MiB of memory: "
            + bigWritten.get());
      }
    }
  }
}
