package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.CountingBackend;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.RawClient;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
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

  /**
   * Head sizes each refusal is tried at: the refusal must not depend on where the head ends up. The
   * last is the whole head at exactly maxHeaderBytes (2048), which is still refused for its own
   * reason, not with 431.
   */
  private static final int[] HEAD_SIZES = {100, 300, 1000, 1900, 2048};

  /**
   * A refused request. {@code {pad}} marks where padding header lines go to grow the head to a
   * given size; a vector without it is about size itself and is sent as it is.
   */
  record Vector(String name, String payload, int status) {
    String padded(int headBytes) {
      int at = payload.indexOf("{pad}");
      if (at < 0) {
        return payload;
      }
      String bare = payload.replace("{pad}", "");
      int headEnd = bare.indexOf("\r\n\r\n");
      int missing = headBytes - (headEnd < 0 ? bare.length() : headEnd + 4);
      String pad = missing > 20 ? "User-Agent: " + "a".repeat(missing - 14) + "\r\n" : "";
      return payload.replace("{pad}", pad);
    }
  }

  static List<Vector> vectors() {
    String h = "Host: test\r\n";
    return List.of(
        new Vector("CL.TE smuggling", "POST / HTTP/1.1\r\n{pad}" + h + "Content-Length: 35\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "0\r\n\r\nGET /smuggled HTTP/1.1\r\nX: y\r\n\r\n", 400),
        new Vector("TE.CL smuggling", "POST / HTTP/1.1\r\n{pad}" + h + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"
            + "5c\r\nGET /smuggled HTTP/1.1\r\nHost: test\r\nContent-Length: 15\r\n\r\nx=1\r\n0\r\n\r\n", 400),
        new Vector("two different Content-Length", "POST / HTTP/1.1\r\n{pad}" + h + "Content-Length: 3\r\nContent-Length: 40\r\n\r\nabc", 400),
        new Vector("signed Content-Length", "POST / HTTP/1.1\r\n{pad}" + h + "Content-Length: +3\r\n\r\nabc", 400),
        new Vector("Content-Length with spaces", "POST / HTTP/1.1\r\n{pad}" + h + "Content-Length: 1 3\r\n\r\nabc", 400),
        new Vector("non-digit Content-Length", "POST / HTTP/1.1\r\n{pad}" + h + "Content-Length: 3a\r\n\r\nabc", 400),
        new Vector("xchunked", "POST / HTTP/1.1\r\n{pad}" + h + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 400),
        new Vector("chunked, identity", "POST / HTTP/1.1\r\n{pad}" + h + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 400),
        new Vector("duplicated Transfer-Encoding", "POST / HTTP/1.1\r\n{pad}" + h + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        new Vector("obs-fold", "GET / HTTP/1.1\r\n{pad}" + h + "X-A: 1\r\n Transfer-Encoding: chunked\r\n\r\n", 400),
        new Vector("whitespace before colon", "POST / HTTP/1.1\r\n{pad}" + h + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400),
        new Vector("bare LF", "GET / HTTP/1.1\r\n{pad}" + h + "X-A: 1\n\r\n", 400),
        new Vector("bare CR", "GET / HTTP/1.1\r\n{pad}Host: test\rX: y\r\n\r\n", 400),
        new Vector("NUL in header value", "GET / HTTP/1.1\r\n{pad}" + h + "X-A: a\u0000b\r\n\r\n", 400),
        new Vector("control character in header name", "GET / HTTP/1.1\r\n{pad}" + h + "X\u0007A: b\r\n\r\n", 400),
        new Vector("extra spaces in request line", "GET  /  HTTP/1.1\r\n{pad}" + h + "\r\n", 400),
        new Vector("absolute-form URI to another host", "GET http://internal.example/admin HTTP/1.1\r\n{pad}" + h + "\r\n", 400),
        new Vector("no Host in HTTP/1.1", "GET / HTTP/1.1\r\n{pad}\r\n", 400),
        new Vector("second Host", "GET / HTTP/1.1\r\n{pad}" + h + "Host: other\r\n\r\n", 400),
        new Vector("Transfer-Encoding with a control byte", "POST / HTTP/1.1\r\n{pad}" + h
            + "Transfer-Encoding: chunked\u000b\r\nContent-Length: 5\r\n\r\nhello", 400),
        new Vector("Transfer-Encoding with a non-ASCII byte", "POST / HTTP/1.1\r\n{pad}" + h
            + "Transfer-Encoding: chunked\u00e9\r\nContent-Length: 5\r\n\r\nhello", 400),
        new Vector("version HTTP/1.32", "GET / HTTP/1.32\r\n{pad}" + h + "\r\n", 400),
        new Vector("version HTTP/4294967295.255", "GET / HTTP/4294967295.255\r\n{pad}" + h + "\r\n", 400),
        new Vector("version HTTP/2.0", "GET / HTTP/2.0\r\n{pad}" + h + "\r\n", 505),
        new Vector("headers over maxHeaderBytes", "GET / HTTP/1.1\r\n" + h + "X-Big: " + "a".repeat(4000) + "\r\n\r\n", 431),
        new Vector("request line over maxRequestLineBytes", "GET /" + "a".repeat(2000) + " HTTP/1.1\r\n" + h + "\r\n", 414));
  }

  /** Every vector at every head size, sent in one write and one byte per write. */
  static Stream<Arguments> refusals() {
    return vectors().stream().flatMap(v -> v.payload().contains("{pad}")
        ? IntStream.of(HEAD_SIZES).boxed().flatMap(size -> Stream.of(
            Arguments.of(v.name(), size, false, v.padded(size), v.status()),
            Arguments.of(v.name(), size, true, v.padded(size), v.status())))
        : Stream.of(Arguments.of(v.name(), v.payload().length(), false, v.payload(), v.status()),
            Arguments.of(v.name(), v.payload().length(), true, v.payload(), v.status())));
  }

  @ParameterizedTest(name = "{0}, head of {1} bytes, byte by byte: {2}")
  @MethodSource("refusals")
  void refusedBeforeAnythingReachesTheBackendWhateverTheHeadSizeAndSplit(String name, int headBytes,
      boolean byteByByte, String payload, int expectedStatus) throws Exception {
    int acceptedBefore = backend.accepted();
    int requestsBefore = backend.requests();
    try (RawClient client = new RawClient(gateway.port())) {
      if (byteByByte) {
        client.sendByteByByte(payload);
      } else {
        client.send(payload);
      }
      RawClient.Response response = client.readResponse();
      assertEquals(expectedStatus, response.status(), name + ": " + response.head());
      assertTrue(response.body().length() > 0 && response.body().endsWith("\n"), "a one-line reason: " + response.body());
      assertTrue(client.closedByServer(), name + ": the connection is closed");
    }
    assertEquals(requestsBefore, backend.requests(), name + ": the backend saw no request; it saw " + seenByBackend);
    assertEquals(acceptedBefore, backend.accepted(), name + ": keepgate did not even connect upstream");
  }

  @Test
  void paddingGrowsTheHeadToTheSizeAsked() {
    Vector vector = vectors().get(0);
    for (int size : HEAD_SIZES) {
      String padded = vector.padded(size);
      assertEquals(size, padded.indexOf("\r\n\r\n") + 4, "head size of the padded vector");
    }
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
