package io.keepgate.http1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every request head two parsers could read differently is refused, with a reason a person can act on. */
class RequestHeadValidatorTest {

  private static String judge(String head) {
    return RequestHeadValidator.rejectReason(head.getBytes(StandardCharsets.ISO_8859_1));
  }

  @Test
  void ordinaryHeadsAreAccepted() {
    assertNull(judge("GET /a?b=c HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n"));
    assertNull(judge("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"));
    assertNull(judge("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
    assertNull(judge("GET / HTTP/1.0\r\n\r\n"), "HTTP/1.0 needs no Host");
    assertNull(judge("\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"), "an empty line before the request line is ignored");
    assertNull(judge("GET / HTTP/1.1\r\nHost: x\r\nX-Tab:\tvalue\r\n\r\n"), "a tab in a value is fine");
    assertNull(judge("GET http://x:8080/p HTTP/1.1\r\nHost: x:8080\r\n\r\n"), "absolute form naming Host");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "both lengths|POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 5\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n|both Content-Length and Transfer-Encoding",
      "two different lengths|POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 5\\r\\nContent-Length: 6\\r\\n\\r\\n|more than one Content-Length",
      "two equal lengths|POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 5\\r\\nContent-Length: 5\\r\\n\\r\\n|more than one Content-Length",
      "length list|POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 5, 5\\r\\n\\r\\n|more than one Content-Length",
      "signed length|POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: +5\\r\\n\\r\\n|invalid Content-Length",
      "length with inner space|POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 1 0\\r\\n\\r\\n|invalid Content-Length",
      "hex length|POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 0x10\\r\\n\\r\\n|invalid Content-Length",
      "xchunked|POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: xchunked\\r\\n\\r\\n|unsupported Transfer-Encoding (only one final chunked is accepted)",
      "chunked then identity|POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked, identity\\r\\n\\r\\n|unsupported Transfer-Encoding (only one final chunked is accepted)",
      "chunked twice|POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n|unsupported Transfer-Encoding (only one final chunked is accepted)",
      "chunked in 1.0|POST / HTTP/1.0\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n|Transfer-Encoding in an HTTP/1.0 request",
      "obs-fold|GET / HTTP/1.1\\r\\nHost: x\\r\\nX-A: 1\\r\\n  folded\\r\\n\\r\\n|obs-fold (folded header line)",
      "space before colon|GET / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding : chunked\\r\\n\\r\\n|whitespace before the colon in a header line",
      "bare LF|GET / HTTP/1.1\\nHost: x\\r\\n\\r\\n|bare LF line ending",
      "bare CR|GET / HTTP/1.1\\r\\nHost: x\\rX-A: 1\\r\\n\\r\\n|bare CR in request head",
      "NUL in value|GET / HTTP/1.1\\r\\nHost: x\\r\\nX-A: a\\u0000b\\r\\n\\r\\n|control character in header value",
      "control in name|GET / HTTP/1.1\\r\\nHost: x\\r\\nX\\u0001A: b\\r\\n\\r\\n|invalid character in header name",
      "extra space in request line|GET  / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n|malformed request line (expected: METHOD SP target SP HTTP-version, single spaces)",
      "trailing space in request line|GET / HTTP/1.1 \\r\\nHost: x\\r\\n\\r\\n|malformed request line (expected: METHOD SP target SP HTTP-version, single spaces)",
      "missing host|GET / HTTP/1.1\\r\\n\\r\\n|HTTP/1.1 request without Host",
      "two hosts|GET / HTTP/1.1\\r\\nHost: x\\r\\nHost: y\\r\\n\\r\\n|more than one Host header",
      "absolute form to another host|GET http://evil.example/ HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n|absolute-form target names a host other than Host",
      "unknown version|GET / HTTP/2.0\\r\\nHost: x\\r\\n\\r\\n|unsupported HTTP version",
  })
  void ambiguousOrMalformedHeadsAreRefused(String name, String head, String reason) {
    assertEquals(reason, judge(unescape(head)), name);
  }

  private static String unescape(String s) {
    return s.replace("\\r", "\r").replace("\\n", "\n").replace("\\u0000", "\u0000").replace("\\u0001", "\u0001");
  }
}
