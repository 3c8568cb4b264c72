package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.Await;
import io.keepgate.testing.CountingBackend;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.RawClient;
import io.keepgate.testing.ScriptedBackend;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The claim under test: keepgate frames messages exactly as they are on the wire. Chunk extensions
 * pass; a broken request body gets 400 (or a close once a response started) and its upstream
 * connection is discarded, never pooled; a request is retried only when no response byte arrived;
 * interim responses are relayed without upsetting the framing of the final one; and the request
 * target reaches the backend byte for byte. All on raw sockets, one event loop (exact counts).
 */
class WireFramingIT {

  private static JsonObject config(String endpoint) {
    JsonObject config = GatewayHarness.config(endpoint);
    config.getJsonObject("server").put("eventLoops", 1);
    return config;
  }

  @Test
  void chunkExtensionsPassAndTheBodyArrivesWhole() throws Exception {
    List<String> bodies = new CopyOnWriteArrayList<>();
    try (CountingBackend backend = CountingBackend.start();
        GatewayHarness gateway = GatewayHarness.start(config(backend.endpoint()));
        RawClient client = new RawClient(gateway.port())) {
      backend.handler(request -> request.body().onSuccess(body -> {
        bodies.add(body.toString());
        request.response().end("got " + body.length());
      }));
      client.send("POST /upload HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "5;name=value\r\nhello\r\n6;q=\"a b\";flag\r\n world\r\n0;last=1\r\n\r\n");
      RawClient.Response response = client.readResponse();
      assertEquals(200, response.status(), response.head() + response.body());
      assertEquals("got 11", response.body());
      assertEquals(List.of("hello world"), bodies);
    }
  }

  /** What follows a good first chunk: a bad chunk size, chunk data longer than its size, or a malformed trailer. */
  static Stream<Arguments> brokenBodies() {
    return Stream.of(
        Arguments.of("chunk size zz", "zz\r\nhello\r\n0\r\n\r\n"),
        Arguments.of("chunk size over 64 bits", "100000005\r\nhello\r\n0\r\n\r\n"),
        Arguments.of("chunk size 5 6", "5 6\r\nhello\r\n0\r\n\r\n"),
        Arguments.of("chunk size -5", "-5\r\nhello\r\n0\r\n\r\n"),
        Arguments.of("chunk data not followed by CRLF", "5\r\nworldXX\r\n0\r\n\r\n"),
        Arguments.of("trailer without a colon", "0\r\nX-Checksum 1\r\n\r\n"),
        Arguments.of("folded trailer", "0\r\nX-Checksum: 1\r\n 2\r\n\r\n"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("brokenBodies")
  void aBrokenChunkedBodyAfterTheHeadWentUpstreamGets400AndTheUpstreamConnectionIsDiscarded(String name, String rest)
      throws Exception {
    try (CountingBackend backend = CountingBackend.start();
        GatewayHarness gateway = GatewayHarness.start(config(backend.endpoint()))) {
      backend.handler(request -> request.body().onSuccess(body -> request.response().end("ok")));
      try (RawClient client = new RawClient(gateway.port())) {
        client.send("POST /upload HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        Await.equal("the head reached the backend", Duration.ofSeconds(5), 1, backend::requests);
        client.send(rest + "GET /smuggled HTTP/1.1\r\nHost: test\r\n\r\n");
        RawClient.Response response = client.readResponse();
        assertEquals(400, response.status(), name + ": " + response.head());
        assertTrue(response.body().endsWith("\n") && !response.body().isBlank(), "a one-line reason: " + response.body());
        assertTrue(client.closedByServer(), "the client connection closes");
      }
      Await.equal("the upstream connection, mid-request, is closed", Duration.ofSeconds(5), 0, backend::open);
      assertEquals(1.0, gateway.closed(backend.endpoint(), "client_aborted"));
      assertEquals(200, get(gateway, "/next").status());
      assertEquals(2, backend.accepted(), "the next request needed a new connection: the broken one was not pooled");
      assertEquals(2, backend.requests(), "nothing after the broken body reached the backend");
    }
  }

  @Test
  void aBrokenRequestBodyAfterTheResponseStartedCutsTheClientWithoutASecondResponse() throws Exception {
    try (CountingBackend backend = CountingBackend.start();
        GatewayHarness gateway = GatewayHarness.start(config(backend.endpoint()))) {
      backend.handler(request -> {
        if (request.path().equals("/upload")) {
          request.response().setChunked(true).write("early"); // answers before reading the body, and goes on
        } else {
          request.response().end("ok");
        }
      });
      try (RawClient client = new RawClient(gateway.port())) {
        client.send("POST /upload HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        String head = client.readHead();
        assertTrue(head.startsWith("HTTP/1.1 200"), head);
        assertEquals("5\r\nearly\r\n", client.readBytes(10), "the response started: its head and a first chunk");
        client.send("zz\r\nhello\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: test\r\n\r\n");
        assertTrue(client.closedByServer(), "the connection is cut, with no last chunk and no 400 after the 200");
      }
      Await.equal("the upstream connection, mid-exchange, is closed", Duration.ofSeconds(5), 0, backend::open);
      assertEquals(1.0, gateway.closed(backend.endpoint(), "client_aborted"));
      assertEquals(200, get(gateway, "/next").status());
      assertEquals(2, backend.accepted(), "the next request needed a new connection: the broken one was not pooled");
      assertEquals(2, backend.requests(), "nothing after the broken body reached the backend");
    }
  }

  @Test
  void aResponseByteBeforeAResetIsNeverRetried() throws Exception {
    try (ScriptedBackend backend = ScriptedBackend.start((connection, request, head, wire) -> {
      if (connection == 1 && request == 2) {
        wire.write("HTTP/1.1 2").reset(); // part of a status line, then a reset
        return false;
      }
      wire.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      return true;
    }); GatewayHarness gateway = GatewayHarness.start(config(backend.endpoint()))) {
      assertEquals(200, get(gateway, "/first").status());
      RawClient.Response second = get(gateway, "/second");
      assertEquals(502, second.status(), "a response had begun: not retried");
      assertEquals(1, backend.accepted(), "no second connection was opened for a retry");
      assertEquals(0.0, gateway.metric("keepgate_upstream_retries_total"));
    }
  }

  @Test
  void aReusedConnectionClosedBeforeAnyResponseByteIsRetriedOnce() throws Exception {
    try (ScriptedBackend backend = ScriptedBackend.start((connection, request, head, wire) -> {
      if (connection == 1 && request == 2) {
        wire.reset(); // the keep-alive race: the backend dropped the idle connection as it was reused
        return false;
      }
      wire.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      return true;
    }); GatewayHarness gateway = GatewayHarness.start(config(backend.endpoint()))) {
      assertEquals(200, get(gateway, "/first").status());
      assertEquals(200, get(gateway, "/second").status(), "retried on a new connection");
      assertEquals(2, backend.accepted());
      assertEquals(1.0, gateway.metric("keepgate_upstream_retries_total"));
    }
  }

  @Test
  void interimResponsesAreRelayedAndAHeadResponseStaysBodilessAfterThem() throws Exception {
    try (ScriptedBackend backend = ScriptedBackend.start((connection, request, head, wire) -> {
      String hints = "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n";
      if (head.startsWith("HEAD")) {
        wire.write(hints + "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n");
      } else {
        wire.write(hints + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
      }
      return true;
    }); GatewayHarness gateway = GatewayHarness.start(config(backend.endpoint()));
        RawClient client = new RawClient(gateway.port())) {
      client.send("HEAD /page HTTP/1.1\r\nHost: test\r\n\r\n");
      RawClient.Response hintsToHead = client.readResponse();
      assertEquals(103, hintsToHead.status());
      assertEquals("</style.css>; rel=preload", hintsToHead.header("Link"));
      RawClient.Response head = client.readResponse(true);
      assertEquals(200, head.status());
      assertEquals("11", head.header("Content-Length"), "the length of the body a GET would get");

      client.send("GET /page HTTP/1.1\r\nHost: test\r\n\r\n");
      assertEquals(103, client.readResponse().status());
      RawClient.Response get = client.readResponse();
      assertEquals(200, get.status());
      assertEquals("hello", get.body(), "client and upstream connections stayed in step");
      assertEquals(1, backend.accepted(), "the upstream connection was reused: its framing held");
    }
  }

  @Test
  void aRequestBodyThatStallsPastTheIdleTimeoutGets408AndItsUpstreamConnectionIsDiscarded() throws Exception {
    try (CountingBackend backend = CountingBackend.start()) {
      backend.handler(request -> request.body().onSuccess(body -> request.response().end("ok")));
      JsonObject config = config(backend.endpoint());
      config.getJsonObject("server").put("idleTimeoutMs", 1000);
      try (GatewayHarness gateway = GatewayHarness.start(config); RawClient client = new RawClient(gateway.port())) {
        client.send("POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\nhello"); // 5 of 10 bytes
        RawClient.Response response = client.readResponse();
        assertEquals(408, response.status(), response.head());
        assertEquals("request body read timed out\n", response.body());
        assertTrue(client.closedByServer());
        Await.equal("the half-sent request's upstream connection is closed", Duration.ofSeconds(5), 0, backend::open);
        assertEquals(1.0, gateway.closed(backend.endpoint(), "client_aborted"));
      }
    }
  }

  @Test
  void aSlowResponseAfterACompleteRequestBodyIsNotCutByTheClientIdleTimeout() throws Exception {
    try (CountingBackend backend = CountingBackend.start()) {
      backend.handler(request -> request.body().onSuccess(body ->
          backend.vertx().setTimer(2500, id -> request.response().end("slow " + body.length()))));
      JsonObject config = config(backend.endpoint());
      config.getJsonObject("server").put("idleTimeoutMs", 1000);
      try (GatewayHarness gateway = GatewayHarness.start(config); RawClient client = new RawClient(gateway.port())) {
        client.send("POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello");
        RawClient.Response response = client.readResponse();
        assertEquals(200, response.status(), "the client idle timeout only bounds a stalled body: " + response.body());
        assertEquals("slow 5", response.body());
      }
    }
  }

  @Test
  void theRequestTargetReachesTheBackendByteForByte() throws Exception {
    try (ScriptedBackend backend = ScriptedBackend.start((connection, request, head, wire) -> {
      wire.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      return true;
    }); GatewayHarness gateway = GatewayHarness.start(config(backend.endpoint()))) {
      String target = "/caf\u00c3\u00a9/%2F..%2f?q=\u00ff&x=%00#frag";
      assertEquals(200, get(gateway, target).status());
      String requestLine = backend.heads().get(0).split("\r\n")[0];
      assertEquals("GET " + target + " HTTP/1.1", requestLine, "not re-encoded, not normalised");
    }
  }

  private static RawClient.Response get(GatewayHarness gateway, String target) throws Exception {
    try (RawClient client = new RawClient(gateway.port())) {
      client.send("GET " + target + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
      return client.readResponse();
    }
  }
}
