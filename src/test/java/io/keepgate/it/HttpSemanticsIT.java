package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.Await;
import io.keepgate.testing.CountingBackend;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.RawBackend;
import io.keepgate.testing.RawClient;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The claim under test: keepgate behaves as an HTTP/1.1 intermediary per RFC 9110 and RFC 9112
 * (SPEC section 3). Hop-by-hop headers are dropped in both directions and forwarding headers
 * added; Expect: 100-continue, HEAD, 204, 304 and chunked bodies are relayed with correct framing
 * to HTTP/1.1 and HTTP/1.0 clients; oversized and slow request heads and idle client connections
 * are cut off; requests with ambiguous framing are refused before anything reaches a backend.
 * Observed on the wire: exact client bytes via {@link RawClient}, what the backend received via
 * {@link CountingBackend}, and exact backend bytes via {@link RawBackend}.
 */
class HttpSemanticsIT {

  /** One request as the backend received it. */
  record Seen(String method, String uri, MultiMap headers, String body) {}

  /** A backend that records every request (headers and whole body) and answers 200 "ok". */
  private static CountingBackend recordingBackend(List<Seen> seen, HttpServerOptions options) throws Exception {
    CountingBackend backend = CountingBackend.start(options);
    backend.handler(request -> request.body().onSuccess(body -> {
      seen.add(new Seen(request.method().name(), request.uri(),
          HttpHeaders.headers().addAll(request.headers()), body.toString()));
      request.response().end("ok");
    }));
    return backend;
  }

  private static CountingBackend recordingBackend(List<Seen> seen) throws Exception {
    return recordingBackend(seen, new HttpServerOptions());
  }

  private static String get(String path) {
    return "GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n";
  }

  // ------------------------------------------------------------------------------------------
  // Hop-by-hop headers

  @Test
  void hopByHopRequestHeadersAndTheHeadersConnectionNamesNeverReachTheBackend() throws Exception {
    List<Seen> seen = new CopyOnWriteArrayList<>();
    try (CountingBackend backend = recordingBackend(seen);
        GatewayHarness gateway = GatewayHarness.start(GatewayHarness.config(backend.endpoint()));
        RawClient client = new RawClient(gateway.port())) {
      client.send("GET /hop HTTP/1.1\r\n"
          + "Host: client.example\r\n"
          + "Connection: close\r\n"
          + "Connection: X-Secret\r\n"
          + "X-Secret: only-for-the-first-hop\r\n"
          + "Keep-Alive: timeout=30\r\n"
          + "TE: trailers\r\n"
          + "Trailer: X-Checksum\r\n"
          + "Upgrade: foo/2\r\n"
          + "Proxy-Connection: keep-alive\r\n"
          + "X-Custom: end-to-end\r\n"
          + "\r\n");
      RawClient.Response response = client.readResponse();
      assertEquals(200, response.status());
      assertTrue(client.closedByServer(), "Connection: close from the client is honoured");

      assertEquals(1, seen.size());
      MultiMap headers = seen.get(0).headers();
      for (String hop : List.of("Connection", "X-Secret", "Keep-Alive", "TE", "Trailer", "Upgrade",
          "Proxy-Connection", "Transfer-Encoding")) {
        assertFalse(headers.contains(hop), hop + " must not reach the backend; it saw " + headers);
      }
      assertEquals("end-to-end", headers.get("X-Custom"), "end-to-end headers pass untouched");
      assertEquals("client.example", headers.get("Host"), "the client's Host is kept");
    }
  }

  @Test
  void hopByHopResponseHeadersAndTheHeadersConnectionNamesNeverReachTheClient() throws Exception {
    try (RawBackend backend = RawBackend.answering("HTTP/1.1 200 OK\r\n"
            + "Content-Length: 2\r\n"
            + "Connection: X-Internal\r\n"
            + "X-Internal: backend-only\r\n"
            + "Keep-Alive: timeout=5\r\n"
            + "Proxy-Connection: keep-alive\r\n"
            + "Trailer: X-Checksum\r\n"
            + "Upgrade: foo/2\r\n"
            + "X-End: kept\r\n"
            + "\r\n"
            + "ok");
        GatewayHarness gateway = GatewayHarness.start(GatewayHarness.config(backend.endpoint()));
        RawClient client = new RawClient(gateway.port())) {
      client.send(get("/"));
      RawClient.Response response = client.readResponse();
      assertEquals(200, response.status());
      assertEquals("ok", response.body());
      for (String hop : List.of("Connection", "X-Internal", "Keep-Alive", "Proxy-Connection", "Trailer", "Upgrade")) {
        assertNull(response.header(hop), hop + " must not reach the client; head was:\n" + response.head());
      }
      assertEquals("kept", response.header("X-End"), "end-to-end headers pass untouched");
      assertTrue(response.header("Via") != null && response.header("Via").contains("keepgate"),
          "the response names keepgate in Via; head was:\n" + response.head());
    }
  }

  // ------------------------------------------------------------------------------------------
  // Forwarding headers

  @Test
  void forwardingHeadersAppendTheClientAndNameTheOriginalHostAndProtocol() throws Exception {
    List<Seen> seen = new CopyOnWriteArrayList<>();
    try (CountingBackend backend = recordingBackend(seen);
        GatewayHarness gateway = GatewayHarness.start(GatewayHarness.config(backend.endpoint()));
        RawClient client = new RawClient(gateway.port())) {
      client.send("GET /fwd HTTP/1.1\r\nHost: shop.example:8443\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n");
      assertEquals(200, client.readResponse().status());

      MultiMap headers = seen.get(0).headers();
      assertEquals("1.2.3.4, 127.0.0.1", headers.get("X-Forwarded-For"), "the client is appended");
      assertEquals(1, headers.getAll("X-Forwarded-For").size(), "one X-Forwarded-For line");
      assertEquals("http", headers.get("X-Forwarded-Proto"));
      assertEquals("shop.example:8443", headers.get("X-Forwarded-Host"), "the client's Host");
      assertEquals("shop.example:8443", headers.get("Host"), "Host kept when the route does not rewrite it");
      assertEquals("1.1 keepgate", headers.get("Via"));
    }
  }

  @Test
  void viaNamesTheProtocolVersionTheClientSpoke() throws Exception {
    List<Seen> seen = new CopyOnWriteArrayList<>();
    try (CountingBackend backend = recordingBackend(seen);
        GatewayHarness gateway = GatewayHarness.start(GatewayHarness.config(backend.endpoint()));
        RawClient client = new RawClient(gateway.port())) {
      client.send("GET /old HTTP/1.0\r\nHost: legacy.example\r\n\r\n");
      RawClient.Response response = client.readResponse();
      assertEquals(200, response.status());
      assertEquals("ok", response.body());

      MultiMap headers = seen.get(0).headers();
      assertEquals("1.0 keepgate", headers.get("Via"));
      assertEquals("127.0.0.1", headers.get("X-Forwarded-For"), "no prior value: just the client");
      assertEquals("legacy.example", headers.get("X-Forwarded-Host"));
    }
  }

  // ------------------------------------------------------------------------------------------
  // Expect, HEAD, 204, 304

  @Test
  void expectContinueClientGetsTheInterimResponseBeforeSendingItsBody() throws Exception {
    List<Seen> seen = new CopyOnWriteArrayList<>();
    try (CountingBackend backend = recordingBackend(seen, new HttpServerOptions().setHandle100ContinueAutomatically(true));
        GatewayHarness gateway = GatewayHarness.start(GatewayHarness.config(backend.endpoint()));
        RawClient client = new RawClient(gateway.port())) {
      client.timeout(5000);
      client.send("POST /upload HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n");
      String interim = client.readHead();
      assertTrue(interim.startsWith("HTTP/1.1 100"), "interim response before any body byte; got:\n" + interim);
      client.send("hello world");
      RawClient.Response response = client.readResponse();
      assertEquals(200, response.status());
      assertEquals("ok", response.body());

      assertEquals(1, seen.size());
      assertEquals("hello world", seen.get(0).body(), "the backend received the full body");

      client.send(get("/after"));
      assertEquals(200, client.readResponse().status(), "the client connection stays usable");
    }
  }

  @Test
  void headTwoHundredFourAndThreeHundredFourAreRelayedWithoutBodiesOnOneKeepAliveConnection() throws Exception {
    try (RawBackend backend = RawBackend.start(head -> {
          if (head.startsWith("HEAD ")) {
            return List.of("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n");
          } else if (head.startsWith("GET /204 ")) {
            return List.of("HTTP/1.1 204 No Content\r\nX-Kind: none\r\n\r\n");
          } else if (head.startsWith("GET /304 ")) {
            return List.of("HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n");
          }
          return List.of("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        });
        GatewayHarness gateway = GatewayHarness.start(GatewayHarness.config(backend.endpoint()));
        RawClient client = new RawClient(gateway.port())) {
      client.send("HEAD /doc HTTP/1.1\r\nHost: test\r\n\r\n");
      RawClient.Response head = client.readResponse(true);
      assertEquals(200, head.status());
      assertEquals("5", head.header("Content-Length"), "HEAD relays the representation's Content-Length");
      assertEquals("text/plain", head.header("Content-Type"));

      client.send(get("/204"));
      RawClient.Response noContent = client.readResponse();
      assertEquals(204, noContent.status(), "no stray body bytes after the HEAD response");
      assertEquals("none", noContent.header("X-Kind"));
      assertNull(noContent.header("Content-Length"), "204 carries no Content-Length (RFC 9110 8.6)");
      assertNull(noContent.header("Transfer-Encoding"), "204 carries no Transfer-Encoding");

      client.send(get("/304"));
      RawClient.Response notModified = client.readResponse();
      assertEquals(304, notModified.status(), "no stray body bytes after the 204 response");
      assertEquals("\"v1\"", notModified.header("ETag"));
      assertNull(notModified.header("Transfer-Encoding"), "304 carries no Transfer-Encoding");

      client.send(get("/doc"));
      RawClient.Response full = client.readResponse();
      assertEquals(200, full.status(), "no stray body bytes after the 304 response");
      assertEquals("hello", full.body());
      assertEquals(4, backend.heads().size());
      assertTrue(backend.heads().get(0).startsWith("HEAD /doc "), "HEAD stays HEAD upstream");
    }
  }

  // ------------------------------------------------------------------------------------------
  // Chunked bodies

  @Test
  void chunkedRequestBodyArrivesCompleteAtTheBackend() throws Exception {
    List<Seen> seen = new CopyOnWriteArrayList<>();
    try (CountingBackend backend = recordingBackend(seen);
        GatewayHarness gateway = GatewayHarness.start(GatewayHarness.config(backend.endpoint()));
        RawClient client = new RawClient(gateway.port())) {
      client.send("POST /chunks HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
      client.send("6\r\n world\r\n");
      client.send("0\r\n\r\n");
      RawClient.Response response = client.readResponse();
      assertEquals(200, response.status());
      assertEquals(1, seen.size());
      assertEquals("hello world", seen.get(0).body());

      client.send(get("/next"));
      assertEquals(200, client.readResponse().status(), "the client connection stays usable");
      assertEquals(2, seen.size());
    }
  }

  private static RawBackend chunkedBackend() throws Exception {
    return RawBackend.answering("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n",
        "5\r\nhello\r\n", "6\r\n world\r\n", "0\r\n\r\n");
  }

  @Test
  void chunkedResponseReachesAnHttp11ClientChunkedAndComplete() throws Exception {
    try (RawBackend backend = chunkedBackend();
        GatewayHarness gateway = GatewayHarness.start(GatewayHarness.config(backend.endpoint()));
        RawClient client = new RawClient(gateway.port())) {
      client.send(get("/stream"));
      RawClient.Response response = client.readResponse();
      assertEquals(200, response.status());
      assertEquals("chunked", response.header("Transfer-Encoding"), "head was:\n" + response.head());
      assertNull(response.header("Content-Length"));
      assertEquals("hello world", response.body());

      client.send(get("/stream"));
      assertEquals("hello world", client.readResponse().body(), "the keep-alive connection stays usable");
    }
  }

  @Test
  void chunkedResponseReachesAnHttp10ClientDelimitedByConnectionClose() throws Exception {
    try (RawBackend backend = chunkedBackend();
        GatewayHarness gateway = GatewayHarness.start(GatewayHarness.config(backend.endpoint()));
        RawClient client = new RawClient(gateway.port())) {
      client.send("GET /stream HTTP/1.0\r\nHost: test\r\n\r\n");
      RawClient.Response response = client.readResponse(); // no length, not chunked: reads to EOF
      assertEquals(200, response.status());
      assertTrue(response.head().startsWith("HTTP/1.0 200"), "head was:\n" + response.head());
      assertNull(response.header("Transfer-Encoding"), "HTTP/1.0 has no chunking");
      assertNull(response.header("Content-Length"));
      assertEquals("hello world", response.body(), "the body ends when the connection does, complete");
    }
  }

  // ------------------------------------------------------------------------------------------
  // Limits and timeouts on the client side

  @Test
  void headerSectionOverMaxHeaderBytesGets431AndNothingReachesTheBackend() throws Exception {
    try (CountingBackend backend = CountingBackend.start()) {
      JsonObject config = GatewayHarness.config(backend.endpoint());
      config.getJsonObject("server").put("maxHeaderBytes", 2048);
      try (GatewayHarness gateway = GatewayHarness.start(config);
          RawClient client = new RawClient(gateway.port())) {
        client.send("GET /big HTTP/1.1\r\nHost: test\r\nX-Big: " + "a".repeat(3000) + "\r\n\r\n");
        RawClient.Response response = client.readResponse();
        assertEquals(431, response.status());
        assertOneLineReason(response);
        assertTrue(client.closedByServer(), "the connection is closed after 431");

        try (RawClient next = new RawClient(gateway.port())) {
          next.send("GET /small HTTP/1.1\r\nHost: test\r\nX-Small: " + "a".repeat(1000) + "\r\n\r\n");
          assertEquals(200, next.readResponse().status(), "a head within the limit is served");
        }
        assertEquals(1, backend.requests(), "the backend saw only the request within the limit");
      }
    }
  }

  @Test
  void idleKeepAliveClientConnectionIsClosedAfterTheIdleTimeout() throws Exception {
    try (CountingBackend backend = CountingBackend.start()) {
      JsonObject config = GatewayHarness.config(backend.endpoint());
      config.getJsonObject("server").put("idleTimeoutMs", 500);
      try (GatewayHarness gateway = GatewayHarness.start(config);
          RawClient client = new RawClient(gateway.port())) {
        client.send(get("/"));
        assertEquals(200, client.readResponse().status());
        long idleSince = System.nanoTime();
        client.timeout(5000);
        assertTrue(client.closedByServer(), "keepgate closes the idle connection");
        long idleMillis = (System.nanoTime() - idleSince) / 1_000_000;
        assertTrue(idleMillis >= 400 && idleMillis <= 2500,
            "closed after " + idleMillis + " ms idle; idleTimeoutMs is 500");
      }
    }
  }

  @Test
  void clientTricklingItsHeadIsCutOffWhileOtherClientsAreServed() throws Exception {
    List<Seen> seen = new CopyOnWriteArrayList<>();
    try (CountingBackend backend = recordingBackend(seen)) {
      JsonObject config = GatewayHarness.config(backend.endpoint());
      config.getJsonObject("server").put("headerReadTimeoutMs", 1000);
      try (GatewayHarness gateway = GatewayHarness.start(config);
          RawClient slow = new RawClient(gateway.port())) {
        String head = "GET /slow HTTP/1.1\r\nHost: test\r\nX-Pad: " + "p".repeat(40) + "\r\n\r\n";
        AtomicLong firstByteAt = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        Thread trickler = new Thread(() -> {
          try {
            for (int i = 0; i < head.length() && !stop.get(); i++) {
              if (i == 0) {
                firstByteAt.set(System.nanoTime());
              }
              slow.send(head.substring(i, i + 1));
              Thread.sleep(200);
            }
          } catch (IOException | InterruptedException e) {
            // keepgate cut the connection: the point of the test
          }
        }, "trickler");
        trickler.start();
        try {
          Await.until("first slow byte sent", Duration.ofSeconds(2), () -> firstByteAt.get() != 0);
          for (int i = 0; i < 3; i++) {
            try (RawClient normal = new RawClient(gateway.port())) {
              normal.send(get("/normal-" + i));
              assertEquals(200, normal.readResponse().status(), "a normal client is served meanwhile");
            }
          }

          slow.timeout(5000);
          String outcome;
          try {
            outcome = "status " + slow.readResponse().status();
          } catch (SocketTimeoutException stillOpen) {
            outcome = "still open after 5 s";
          } catch (IOException closed) {
            outcome = "closed";
          }
          long cutAfterMillis = (System.nanoTime() - firstByteAt.get()) / 1_000_000;
          assertTrue(outcome.equals("status 408") || outcome.equals("closed"), "got " + outcome);
          if (!outcome.equals("closed")) {
            assertTrue(slow.closedByServer(), "the connection is closed after 408");
          }
          assertTrue(cutAfterMillis >= 900 && cutAfterMillis <= 2500,
              "cut off " + cutAfterMillis + " ms after the first byte; headerReadTimeoutMs is 1000");
        } finally {
          stop.set(true);
          trickler.join(5000);
        }
        assertEquals(3, seen.size(), "only the normal requests reached the backend: " + seen);
        assertTrue(seen.stream().noneMatch(s -> s.uri().startsWith("/slow")), "the slow request never did");
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // Request smuggling basics

  @Test
  void contentLengthWithTransferEncodingIsRefusedAndTheConnectionClosed() throws Exception {
    assertRefused("POST /smuggle HTTP/1.1\r\nHost: test\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "0\r\n\r\nG");
  }

  @Test
  void twoDifferentContentLengthsAreRefusedAndTheConnectionClosed() throws Exception {
    assertRefused("POST /smuggle HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
  }

  @Test
  void transferEncodingOtherThanChunkedIsRefusedAndTheConnectionClosed() throws Exception {
    assertRefused("POST /smuggle HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: xchunked\r\n\r\n"
        + "5\r\nhello\r\n0\r\n\r\n");
  }

  /** 400 with a one-line reason, the connection closed, and the backend saw nothing of it. */
  private static void assertRefused(String request) throws Exception {
    List<Seen> seen = new CopyOnWriteArrayList<>();
    try (CountingBackend backend = recordingBackend(seen);
        GatewayHarness gateway = GatewayHarness.start(GatewayHarness.config(backend.endpoint()))) {
      try (RawClient client = new RawClient(gateway.port())) {
        client.send(request);
        RawClient.Response response = client.readResponse();
        assertEquals(400, response.status(), "head was:\n" + response.head());
        assertOneLineReason(response);
        assertTrue(client.closedByServer(), "the connection is closed after 400");
      }
      try (RawClient next = new RawClient(gateway.port())) {
        next.send(get("/fine"));
        assertEquals(200, next.readResponse().status());
      }
      assertEquals(1, backend.requests(), "the backend saw only the well-formed request: " + seen);
      assertEquals("/fine", seen.get(0).uri());
    }
  }

  /** SPEC section 3: errors carry a one-line plain-text body naming the reason. */
  private static void assertOneLineReason(RawClient.Response response) {
    String body = response.body();
    assertTrue(body.endsWith("\n") && body.indexOf('\n') == body.length() - 1 && body.trim().length() > 0,
        "a one-line reason, got " + (body.isEmpty() ? "an empty body" : "\"" + body + "\""));
    String type = response.header("Content-Type");
    assertTrue(type != null && type.toLowerCase(Locale.ROOT).startsWith("text/plain"), "Content-Type " + type);
  }
}
