package io.keepgate.http1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The claim under test: the decoder refuses every request two HTTP parsers could read
 * differently, whatever the size of its head and however its bytes are split across reads, and
 * decodes everything legitimate (chunk extensions, pipelined requests, any target byte) exactly.
 */
class RequestDecoderTest {
  /** Head sizes from 100 bytes up to the header limit, the last one the whole head at exactly the limit. */
  static final int[] HEAD_SIZES = {100, 300, 1000, DecodedRequests.MAX_HEADER - 100, DecodedRequests.MAX_HEADER};

  /** A refused head; {@code {pad}} is where padding header lines go to reach a head size. */
  record Refused(String name, String head, int status) {
    String padded(int size) {
      String bare = head.replace("{pad}", "");
      int missing = size - bare.length();
      return head.replace("{pad}", missing > 20 ? "User-Agent: " + "u".repeat(missing - 14) + "\r\n" : "");
    }
  }

  static final List<Refused> REFUSED = List.of(
      new Refused("both lengths", "POST / HTTP/1.1\r\n{pad}Host: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
      new Refused("TE then CL", "POST / HTTP/1.1\r\n{pad}Host: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400),
      new Refused("two different lengths", "POST / HTTP/1.1\r\n{pad}Host: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400),
      new Refused("two equal lengths", "POST / HTTP/1.1\r\n{pad}Host: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 400),
      new Refused("length list", "POST / HTTP/1.1\r\n{pad}Host: x\r\nContent-Length: 5, 5\r\n\r\n", 400),
      new Refused("signed length", "POST / HTTP/1.1\r\n{pad}Host: x\r\nContent-Length: +5\r\n\r\n", 400),
      new Refused("length with inner space", "POST / HTTP/1.1\r\n{pad}Host: x\r\nContent-Length: 1 0\r\n\r\n", 400),
      new Refused("hex length", "POST / HTTP/1.1\r\n{pad}Host: x\r\nContent-Length: 0x10\r\n\r\n", 400),
      new Refused("two lengths in HTTP/1.0", "POST / HTTP/1.0\r\n{pad}Content-Length: 5\r\nContent-Length: 5\r\n\r\n", 400),
      new Refused("xchunked", "POST / HTTP/1.1\r\n{pad}Host: x\r\nTransfer-Encoding: xchunked\r\n\r\n", 400),
      new Refused("chunked then identity", "POST / HTTP/1.1\r\n{pad}Host: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n", 400),
      new Refused("chunked twice", "POST / HTTP/1.1\r\n{pad}Host: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
      new Refused("chunked with a control byte", "POST / HTTP/1.1\r\n{pad}Host: x\r\nTransfer-Encoding: chunked\u000b\r\n\r\n", 400),
      new Refused("chunked with a non-ASCII byte", "POST / HTTP/1.1\r\n{pad}Host: x\r\nTransfer-Encoding: chunked\u00e9\r\n\r\n", 400),
      new Refused("chunked in HTTP/1.0", "POST / HTTP/1.0\r\n{pad}Transfer-Encoding: chunked\r\n\r\n", 400),
      new Refused("obs-fold", "GET / HTTP/1.1\r\n{pad}Host: x\r\nX-A: 1\r\n  folded\r\n\r\n", 400),
      new Refused("obs-fold with a tab", "GET / HTTP/1.1\r\n{pad}Host: x\r\nX-A: 1\r\n\tTransfer-Encoding: chunked\r\n\r\n", 400),
      new Refused("space before colon", "GET / HTTP/1.1\r\n{pad}Host: x\r\nTransfer-Encoding : chunked\r\n\r\n", 400),
      new Refused("bare LF in a header line", "GET / HTTP/1.1\r\n{pad}Host: x\nX-A: 1\r\n\r\n", 400),
      new Refused("bare LF ending the request line", "GET / HTTP/1.1\n{pad}Host: x\r\n\r\n", 400),
      new Refused("bare CR", "GET / HTTP/1.1\r\n{pad}Host: x\rX-A: 1\r\n\r\n", 400),
      new Refused("NUL in value", "GET / HTTP/1.1\r\n{pad}Host: x\r\nX-A: a\u0000b\r\n\r\n", 400),
      new Refused("DEL in value", "GET / HTTP/1.1\r\n{pad}Host: x\r\nX-A: a\u007fb\r\n\r\n", 400),
      new Refused("control in name", "GET / HTTP/1.1\r\n{pad}Host: x\r\nX\u0001A: b\r\n\r\n", 400),
      new Refused("header without colon", "GET / HTTP/1.1\r\n{pad}Host: x\r\nX-A b\r\n\r\n", 400),
      new Refused("empty header name", "GET / HTTP/1.1\r\n{pad}Host: x\r\n: b\r\n\r\n", 400),
      new Refused("extra space in request line", "GET  / HTTP/1.1\r\n{pad}Host: x\r\n\r\n", 400),
      new Refused("tab in request line", "GET\t/ HTTP/1.1\r\n{pad}Host: x\r\n\r\n", 400),
      new Refused("trailing space in request line", "GET / HTTP/1.1 \r\n{pad}Host: x\r\n\r\n", 400),
      new Refused("control in target", "GET /a\u0001b HTTP/1.1\r\n{pad}Host: x\r\n\r\n", 400),
      new Refused("missing host", "GET / HTTP/1.1\r\n{pad}\r\n", 400),
      new Refused("two hosts", "GET / HTTP/1.1\r\n{pad}Host: x\r\nHost: y\r\n\r\n", 400),
      new Refused("absolute form to another host", "GET http://evil.example/ HTTP/1.1\r\n{pad}Host: x\r\n\r\n", 400),
      new Refused("authority form", "CONNECT x:443 HTTP/1.1\r\n{pad}Host: x:443\r\n\r\n", 400),
      new Refused("two-digit minor version", "GET / HTTP/1.32\r\n{pad}Host: x\r\n\r\n", 400),
      new Refused("huge version", "GET / HTTP/4294967295.255\r\n{pad}Host: x\r\n\r\n", 400),
      new Refused("HTTP/2.0 head", "GET / HTTP/2.0\r\n{pad}Host: x\r\n\r\n", 505),
      new Refused("HTTP/0.9 version", "GET / HTTP/0.9\r\n{pad}Host: x\r\n\r\n", 505),
      new Refused("lower-case version", "GET / http/1.1\r\n{pad}Host: x\r\n\r\n", 400));

  static Stream<Arguments> refusals() {
    return REFUSED.stream().flatMap(r -> IntStream.of(HEAD_SIZES).boxed().flatMap(size -> Stream.of(
        Arguments.of(r.name(), size, false, r.padded(size), r.status()),
        Arguments.of(r.name(), size, true, r.padded(size), r.status()))));
  }

  @ParameterizedTest(name = "{0}, head of {1} bytes, byte by byte: {2}")
  @MethodSource("refusals")
  void everyAmbiguousHeadIsRefusedWhateverItsSizeAndSplit(String name, int size, boolean byteByByte, String head,
      int status) {
    // a smuggled request follows: it must never come out
    DecodedRequests decoded = DecodedRequests.decode(head + "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n", byteByByte);
    try {
      assertFalse(decoded.accepted(), name);
      RequestRefusal refusal = assertInstanceOf(RequestRefusal.class, decoded.refusal(), name);
      assertEquals(status, refusal.status(), name + ": " + refusal.getMessage());
      assertTrue(decoded.requestLines().stream().noneMatch(line -> line.contains("smuggled")), name);
    } finally {
      decoded.release();
    }
  }

  @ParameterizedTest(name = "byte by byte: {0}")
  @ValueSource(booleans = {false, true})
  void ordinaryHeadsPassAndPipelinedRequestsComeOutInOrder(boolean byteByByte) {
    String wire = "GET /a?b=c HTTP/1.1\r\nHost: x\r\nAccept: */*\r\nX-Tab:\tvalue\r\n\r\n"
        + "\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
        + "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        + "GET / HTTP/1.0\r\n\r\n"
        + "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"
        + "GET http://x:8080/p HTTP/1.1\r\nHost: x:8080\r\n\r\n";
    DecodedRequests decoded = DecodedRequests.decode(wire, byteByByte);
    try {
      assertNull(decoded.refusal());
      assertEquals(List.of("GET /a?b=c", "POST /b", "POST /c", "GET /", "OPTIONS *", "GET http://x:8080/p"),
          decoded.requestLines());
      assertEquals("hellohello", bodies(decoded));
      assertEquals(6, decoded.headsStarted, "the head clock starts once per head");
    } finally {
      decoded.release();
    }
  }

  @ParameterizedTest(name = "byte by byte: {0}")
  @ValueSource(booleans = {false, true})
  void chunkExtensionsAndTrailersPass(boolean byteByByte) {
    DecodedRequests decoded = DecodedRequests.decode("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "5;name=value\r\nhello\r\n6 ; a=\"q\\\"x\"; b\r\n world\r\n0;last\r\nX-Checksum: 1\r\n\r\n"
        + "GET /next HTTP/1.1\r\nHost: x\r\n\r\n", byteByByte);
    try {
      assertNull(decoded.refusal());
      assertEquals("hello world", bodies(decoded));
      assertEquals(List.of("POST /", "GET /next"), decoded.requestLines());
      LastHttpContent last = (LastHttpContent) decoded.messages.stream().filter(m -> m instanceof LastHttpContent)
          .findFirst().orElseThrow();
      assertEquals("1", last.trailingHeaders().get("X-Checksum"));
    } finally {
      decoded.release();
    }
  }

  @ParameterizedTest(name = "chunk size [{0}]")
  @ValueSource(strings = {"100000005", "fffffffffffffffff5", "80000000", "zz", "5 6", " 5", "", "5\u0000", "-5", "0x5"})
  void aBadChunkSizeIsRefusedAndNothingAfterItIsDecoded(String size) {
    for (boolean byteByByte : new boolean[] {false, true}) {
      DecodedRequests decoded = DecodedRequests.decode("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
          + size + "\r\nhello\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n", byteByByte);
      try {
        assertTrue(decoded.refusal() != null, "refused: " + size);
        assertEquals(List.of("POST /upload"), decoded.requestLines(), "nothing decoded after the bad chunk");
      } finally {
        decoded.release();
      }
    }
  }

  /** Chunk data must end in CRLF: anything else there (a longer chunk than its size, a bare LF) is refused. */
  @ParameterizedTest(name = "after chunk data [{0}]")
  @ValueSource(strings = {"XX\r\n", "X\r\n", "\n", "\r", "\rX\n", "0\r\n\r\n", " \r\n"})
  void chunkDataNotFollowedByCrlfIsRefusedAndNothingAfterItIsDecoded(String delimiter) {
    for (boolean byteByByte : new boolean[] {false, true}) {
      DecodedRequests decoded = DecodedRequests.decode("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "5\r\nhello" + delimiter + "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n", byteByByte);
      try {
        RequestRefusal refusal = assertInstanceOf(RequestRefusal.class, decoded.refusal(), "refused: " + delimiter);
        assertEquals(400, refusal.status());
        assertEquals(List.of("POST /upload"), decoded.requestLines(), "nothing decoded after the bad delimiter");
      } finally {
        decoded.release();
      }
    }
  }

  @ParameterizedTest(name = "trailer section [{0}]")
  @ValueSource(strings = {"X-A: 1\r\n folded\r\n", "X-A 1\r\n", ": 1\r\n", "X-A : 1\r\n", "X-A: a\u0000b\r\n",
      "X-A: 1\n", "X-A: 1\rX-B: 2\r\n", "X\u0001A: 1\r\n", "X-A: 1\r\n\n"})
  void aMalformedTrailerIsRefusedAndNothingAfterItIsDecoded(String trailers) {
    for (boolean byteByByte : new boolean[] {false, true}) {
      DecodedRequests decoded = DecodedRequests.decode("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "5\r\nhello\r\n0\r\n" + trailers + "\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n", byteByByte);
      try {
        RequestRefusal refusal = assertInstanceOf(RequestRefusal.class, decoded.refusal(), "refused: " + trailers);
        assertEquals(400, refusal.status());
        assertEquals(List.of("POST /upload"), decoded.requestLines(), "nothing decoded after the bad trailer");
      } finally {
        decoded.release();
      }
    }
  }

  @Test
  void targetBytesAboveAsciiComeOutOneCharPerByte() {
    DecodedRequests decoded = DecodedRequests.decode("GET /caf\u00c3\u00a9#frag HTTP/1.1\r\nHost: x\r\n\r\n", true);
    try {
      assertTrue(decoded.accepted());
      String target = decoded.firstRequest().uri();
      assertEquals("/caf\u00c3\u00a9#frag", target);
      assertEquals(11, target.getBytes(StandardCharsets.ISO_8859_1).length, "one char per byte on the wire");
    } finally {
      decoded.release();
    }
  }

  @ParameterizedTest(name = "byte by byte: {0}")
  @ValueSource(booleans = {false, true})
  void aValidHeadOfExactlyTheLimitPasses(boolean byteByByte) {
    String head = new Refused("at the limit", "GET / HTTP/1.1\r\n{pad}Host: x\r\n\r\n", 0).padded(DecodedRequests.MAX_HEADER);
    assertEquals(DecodedRequests.MAX_HEADER, head.length());
    DecodedRequests decoded = DecodedRequests.decode(head, byteByByte);
    try {
      assertTrue(decoded.accepted(), "refused: " + decoded.refusal());
    } finally {
      decoded.release();
    }
  }

  @Test
  void sizeLimitsGive414And431() {
    DecodedRequests line = DecodedRequests.decode("GET /" + "a".repeat(2000) + " HTTP/1.1\r\nHost: x\r\n\r\n", false);
    DecodedRequests head = DecodedRequests.decode("GET / HTTP/1.1\r\nHost: x\r\nX: " + "a".repeat(3000) + "\r\n\r\n", false);
    try {
      assertEquals(414, ((RequestRefusal) line.refusal()).status());
      assertEquals(431, ((RequestRefusal) head.refusal()).status());
    } finally {
      line.release();
      head.release();
    }
  }

  @Test
  void decodingStopsAfterAWebSocketUpgradeRequest() {
    DecodedRequests decoded = DecodedRequests.decode("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
        + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        + "\u0081\u0085not http", false);
    try {
      assertNull(decoded.refusal(), "frame bytes after the upgrade request are not judged as HTTP");
      assertEquals(List.of("GET /ws"), decoded.requestLines());
    } finally {
      decoded.release();
    }
  }

  private static String bodies(DecodedRequests decoded) {
    StringBuilder body = new StringBuilder();
    decoded.messages.stream().filter(m -> m instanceof HttpContent).map(m -> (HttpContent) m)
        .forEach(c -> body.append(c.content().toString(StandardCharsets.ISO_8859_1)));
    return body.toString();
  }
}
