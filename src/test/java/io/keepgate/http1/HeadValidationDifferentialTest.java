package io.keepgate.http1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The claim under test: the new data plane's decoder ({@link RequestDecoder}: a scan in place, Netty's
 * strict parsing and rules on the decoded head) refuses every head the byte-level
 * {@link RequestHeadValidator} refuses, and accepts every head it accepts, except the one rule the
 * decoder adds on purpose (request targets other than origin form, absolute form and {@code *}).
 * Heads are {@link RequestDecoderTest}'s named refusals at each of its head sizes, and random
 * mutations of valid heads (fixed seed), whole and split into one-byte reads.
 */
class HeadValidationDifferentialTest {
  private static final String[] VALID = {
      "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /a/b?c=d&e HTTP/1.1\r\nHost: example.com:8080\r\nAccept: */*\r\nUser-Agent: curl/8.0\r\n\r\n",
      "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\n",
      "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
      "GET / HTTP/1.0\r\n\r\n",
      "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      "\r\nGET / HTTP/1.1\r\nHost: x\r\nX-Tab:\tv\r\n\r\n",
      "GET http://x:8080/p HTTP/1.1\r\nHost: x:8080\r\n\r\n",
      "PUT /x HTTP/1.1\r\nHost: [::1]:80\r\nContent-Length: 0\r\nX-Empty:\r\n\r\n",
      "DELETE /r HTTP/1.1\r\nhost: x\r\nCONTENT-LENGTH: 3\r\n\r\n",
  };
  /** Bytes that matter to HTTP/1.1 framing, inserted or substituted at random. */
  private static final char[] INTERESTING = {' ', '\t', '\r', '\n', '\0', ':', ',', ';', 'a', '0', '"', '/', 'H',
      '\u000b', '\u007f', '\u0080', '\u00ff'};
  private static final String[] LINES = {"Content-Length: 5\r\n", "Content-Length: 6\r\n", "Transfer-Encoding: chunked\r\n",
      "Transfer-Encoding: gzip\r\n", "Host: y\r\n", "Host: x\r\n", " folded\r\n", "X-A : b\r\n", "\r\n"};

  @Test
  void theDecoderAgreesWithTheByteLevelValidatorOnEveryNamedRefusal() {
    List<String> disagreements = new ArrayList<>();
    for (RequestDecoderTest.Refused refused : RequestDecoderTest.REFUSED) {
      for (int size : RequestDecoderTest.HEAD_SIZES) {
        String head = refused.padded(size);
        String oldReason = RequestHeadValidator.rejectReason(headPart(head).getBytes(StandardCharsets.ISO_8859_1));
        for (boolean byteByByte : new boolean[] {false, true}) {
          RequestRefusal newRefusal = decode(head, byteByByte);
          if (!agree(oldReason, newRefusal)) {
            disagreements.add(refused.name() + ", head of " + size + " bytes" + (byteByByte ? " (byte by byte)" : "")
                + ": old=" + oldReason + " new=" + (newRefusal == null ? null : newRefusal.getMessage()));
          }
        }
      }
    }
    assertEquals(List.of(), disagreements);
  }

  @Test
  void theDecoderAgreesWithTheByteLevelValidatorOnRandomHeads() {
    Random random = new Random(20261201);
    List<String> disagreements = new ArrayList<>();
    int refusedByBoth = 0;
    for (int i = 0; i < 20_000; i++) {
      String head = mutate(VALID[random.nextInt(VALID.length)], random);
      String oldReason = RequestHeadValidator.rejectReason(headPart(head).getBytes(StandardCharsets.ISO_8859_1));
      for (boolean byteByByte : i % 10 == 0 ? new boolean[] {false, true} : new boolean[] {false}) {
        RequestRefusal newRefusal = decode(head, byteByByte);
        if (!agree(oldReason, newRefusal)) {
          disagreements.add(escape(head) + " old=" + oldReason + " new=" + (newRefusal == null ? null : newRefusal.getMessage())
              + (byteByByte ? " (byte by byte)" : ""));
        }
        if (oldReason != null && newRefusal != null) {
          refusedByBoth++;
        }
      }
    }
    assertEquals(List.of(), disagreements.subList(0, Math.min(20, disagreements.size())),
        disagreements.size() + " disagreements");
    assertTrue(refusedByBoth > 2_000, "the mutations reach the refusals: " + refusedByBoth);
  }

  /** Both refuse or both accept, or only the decoder refuses, for the target-form rule it adds on purpose. */
  private static boolean agree(String oldReason, RequestRefusal newRefusal) {
    boolean intended = newRefusal != null && newRefusal.getMessage().startsWith("unsupported request target form");
    return (oldReason == null) == (newRefusal == null) || (oldReason == null && intended);
  }

  /** The head as the old validator saw it: leading empty lines, then up to and including the first empty line. */
  private static String headPart(String wire) {
    int start = 0;
    while (wire.startsWith("\r\n", start)) {
      start += 2;
    }
    int end = wire.indexOf("\r\n\r\n", start);
    return end < 0 ? wire : wire.substring(0, end + 4);
  }

  private static String mutate(String valid, Random random) {
    StringBuilder head = new StringBuilder(valid.substring(0, valid.length() - 2)); // without the final CRLF
    int mutations = random.nextInt(4) == 0 ? 2 + random.nextInt(2) : 1; // mostly one, so each rule is reached alone
    for (int m = 0; m < mutations; m++) {
      int at = random.nextInt(head.length() + 1);
      switch (random.nextInt(5)) {
        case 0 -> head.insert(at, INTERESTING[random.nextInt(INTERESTING.length)]);
        case 1 -> {
          if (at < head.length()) {
            head.setCharAt(at, INTERESTING[random.nextInt(INTERESTING.length)]);
          }
        }
        case 2 -> {
          if (at < head.length()) {
            head.deleteCharAt(at);
          }
        }
        case 3 -> {
          int lineEnd = head.indexOf("\r\n", random.nextInt(head.length()));
          if (lineEnd >= 0) {
            head.insert(lineEnd + 2, LINES[random.nextInt(LINES.length)]);
          }
        }
        default -> {
          if (at < head.length()) {
            char c = head.charAt(at);
            head.setCharAt(at, Character.isUpperCase(c) ? Character.toLowerCase(c) : Character.toUpperCase(c));
          }
        }
      }
    }
    return head.append("\r\n").toString();
  }

  /** The decoder's refusal of the first request, or null when it passed; a head cut short by the end of input is refused too. */
  private static RequestRefusal decode(String wire, boolean byteByByte) {
    DecodedRequests decoded = DecodedRequests.decode(wire, byteByByte);
    try {
      if (decoded.messages.isEmpty()) {
        return new RequestRefusal(400, "no request decoded");
      }
      Throwable cause = decoded.messages.get(0).decoderResult().cause();
      return cause == null ? null : cause instanceof RequestRefusal refusal ? refusal
          : new RequestRefusal(400, String.valueOf(cause));
    } finally {
      decoded.release();
    }
  }

  private static String escape(String s) {
    StringBuilder out = new StringBuilder();
    for (char c : s.toCharArray()) {
      out.append(c >= 0x20 && c < 0x7F ? String.valueOf(c) : String.format("\\x%02x", (int) c));
    }
    return out.toString();
  }
}
