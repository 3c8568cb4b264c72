package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.CountingBackend;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.RawClient;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The claim under test: a request whose framing or syntax two parsers could read differently is
 * refused with 400 (or 414/431 for size) on a raw socket, the connection is closed, and the
 * backend never sees it, let alone a second, smuggled request hidden in its body.
 */
class SmugglingIT {
  private static CountingBackend backend;
  private static GatewayHarness gateway;
  private static final List<String> seenByBackend = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    backend = CountingBackend.start();
    backend.handler(request -> {
      seenByBackend.add(request.method() + " " + request.uri());
      request.body().onComplete(b -> request.response().end("ok"));
    });
    var config = GatewayHarness.config(backend.endpoint());
    config.getJsonObject("server").put("maxHeaderBytes", 2048).put("maxRequestLineBytes", 1024);
    gateway = GatewayHarness.start(config);
  }

  @AfterAll
  static void stop() throws Exception {
    gateway.close();
    backend.close();
  }

  static List<String[]> refusedHeads() {
    List<String[]> cases = new ArrayList<>();
    String h = "Host: test\r\n";
    cases.add(new String[] {"CL.TE smuggling", "POST / HTTP/1.1\r\n" + h + "Content-Length: 35\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "0\r\n\r\nGET /smuggled HTTP/1.1\r\nX: y\r\n\r\n", "400"});
    cases.add(new String[] {"TE.CL smuggling", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"
        + "5c\r\nGET /smuggled HTTP/1.1\r\nHost: test\r\nContent-Length: 15\r\n\r\nx=1\r\n0\r\n\r\n", "400"});
    cases.add(new String[] {"two different Content-Length", "POST / HTTP/1.1\r\n" + h + "Content-Length: 3\r\nContent-Length: 40\r\n\r\nabc", "400"});
    cases.add(new String[] {"signed Content-Length", "POST / HTTP/1.1\r\n" + h + "Content-Length: +3\r\n\r\nabc", "400"});
    cases.add(new String[] {"Content-Length with spaces", "POST / HTTP/1.1\r\n" + h + "Content-Length: 1 3\r\n\r\nabc", "400"});
    cases.add(new String[] {"non-digit Content-Length", "POST / HTTP/1.1\r\n" + h + "Content-Length: 3a\r\n\r\nabc", "400"});
    cases.add(new String[] {"xchunked", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", "400"});
    cases.add(new String[] {"chunked, identity", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", "400"});
    cases.add(new String[] {"duplicated Transfer-Encoding", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400"});
    cases.add(new String[] {"obs-fold", "GET / HTTP/1.1\r\n" + h + "X-A: 1\r\n Transfer-Encoding: chunked\r\n\r\n", "400"});
    cases.add(new String[] {"whitespace before colon", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", "400"});
    cases.add(new String[] {"bare LF", "GET / HTTP/1.1\n" + h + "\r\n", "400"});
    cases.add(new String[] {"bare CR", "GET / HTTP/1.1\r\nHost: test\rX: y\r\n\r\n", "400"});
    cases.add(new String[] {"NUL in header value", "GET / HTTP/1.1\r\n" + h + "X-A: a\u0000b\r\n\r\n", "400"});
    cases.add(new String[] {"control character in header name", "GET / HTTP/1.1\r\n" + h + "X\u0007A: b\r\n\r\n", "400"});
    cases.add(new String[] {"extra spaces in request line", "GET  /  HTTP/1.1\r\n" + h + "\r\n", "400"});
    cases.add(new String[] {"absolute-form URI to another host", "GET http://internal.example/admin HTTP/1.1\r\n" + h + "\r\n", "400"});
    cases.add(new String[] {"no Host in HTTP/1.1", "GET / HTTP/1.1\r\n\r\n", "400"});
    cases.add(new String[] {"headers over maxHeaderBytes", "GET / HTTP/1.1\r\n" + h + "X-Big: " + "a".repeat(4000) + "\r\n\r\n", "431"});
    cases.add(new String[] {"request line over maxRequestLineBytes", "GET /" + "a".repeat(2000) + " HTTP/1.1\r\n" + h + "\r\n", "414"});
    return cases;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusedHeads")
  void refusedBeforeAnythingReachesTheBackend(String name, String payload, String expectedStatus) throws Exception {
    int acceptedBefore = backend.accepted();
    int requestsBefore = backend.requests();
    try (RawClient client = new RawClient(gateway.port())) {
      client.send(payload);
      RawClient.Response response = client.readResponse();
      assertEquals(Integer.parseInt(expectedStatus), response.status(), name + ": " + response.head());
      assertTrue(response.body().length() > 0 && response.body().endsWith("\n"), "a one-line reason: " + response.body());
      assertTrue(client.closedByServer(), name + ": the connection is closed");
    }
    assertEquals(requestsBefore, backend.requests(), name + ": the backend saw no request; it saw " + seenByBackend);
    assertEquals(acceptedBefore, backend.accepted(), name + ": keepgate did not even connect upstream");
  }

  @Test
  void anInvalidChunkSizeNeverLetsASecondRequestThrough() throws Exception {
    seenByBackend.clear();
    try (RawClient client = new RawClient(gateway.port())) {
      client.send("POST /upload HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "zz\r\nhello\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: test\r\n\r\n");
      try {
        RawClient.Response response = client.readResponse();
        assertTrue(response.status() >= 400, "an error status, if any: " + response.head());
      } catch (IOException closed) {
        // the connection may be cut instead: the body is already streaming when the bad chunk arrives
      }
      assertTrue(client.closedByServer(), "the connection is closed");
    }
    assertTrue(seenByBackend.stream().noneMatch(r -> r.contains("smuggled")),
        "no smuggled request reached the backend: " + seenByBackend);
  }

  @Test
  void aValidRequestAfterARefusedOneOnAnotherConnectionIsServed() throws Exception {
    try (RawClient client = new RawClient(gateway.port())) {
      client.send("GET /fine HTTP/1.1\r\nHost: test\r\n\r\n");
      RawClient.Response response = client.readResponse();
      assertEquals(200, response.status());
      assertEquals("ok", response.body());
    }
  }
}
