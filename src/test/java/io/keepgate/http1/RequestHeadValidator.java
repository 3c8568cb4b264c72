package io.keepgate.http1;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Judges the raw bytes of one request head (request line, header lines, blank line) before any of
 * it is forwarded, refusing everything two HTTP parsers could read differently (request
 * smuggling, RFC 9112 sections 2.2, 3, 5 and 6.3): bare CR or LF line endings, obs-fold, whitespace
 * before a colon, control characters, a malformed request line, ambiguous framing (Content-Length
 * with Transfer-Encoding, repeated or invalid Content-Length, any Transfer-Encoding but one final
 * {@code chunked}), a missing or repeated Host, and an absolute-form target naming another host.
 *
 * <p>Threading: stateless; a pure function of the bytes.
 */
final class RequestHeadValidator {
  private RequestHeadValidator() {}

  /** Why this head must be refused with 400, or {@code null} if it is acceptable. */
  static String rejectReason(byte[] head) {
    int start = 0;
    while (start + 1 < head.length && head[start] == '\r' && head[start + 1] == '\n') {
      start += 2; // RFC 9112 2.2: empty lines before the request line may be ignored
    }
    List<String> lines = new ArrayList<>();
    String lineError = splitLines(head, start, lines);
    if (lineError != null) {
      return lineError;
    }
    if (lines.isEmpty()) {
      return "empty request head";
    }
    String[] requestLine = lines.get(0).split(" ", -1);
    String requestLineError = checkRequestLine(requestLine);
    if (requestLineError != null) {
      return requestLineError;
    }
    boolean http10 = requestLine[2].equals("HTTP/1.0");
    Framing framing = new Framing();
    for (int i = 1; i < lines.size(); i++) {
      String error = checkHeaderLine(lines.get(i), framing);
      if (error != null) {
        return error;
      }
    }
    return framing.check(http10, requestLine[1]);
  }

  /** Splits at CRLF; any other CR or LF is an error. The head ends at the first empty line. */
  private static String splitLines(byte[] head, int start, List<String> lines) {
    int lineStart = start;
    for (int i = start; i < head.length; i++) {
      byte b = head[i];
      if (b == '\n') {
        return "bare LF line ending";
      }
      if (b == '\r') {
        if (i + 1 >= head.length || head[i + 1] != '\n') {
          return "bare CR in request head";
        }
        if (i == lineStart) {
          return null; // the blank line ending the head
        }
        lines.add(new String(head, lineStart, i - lineStart, StandardCharsets.ISO_8859_1));
        i++;
        lineStart = i + 1;
      }
    }
    return "incomplete request head";
  }

  private static String checkRequestLine(String[] parts) {
    if (parts.length != 3 || parts[0].isEmpty() || parts[1].isEmpty()) {
      return "malformed request line (expected: METHOD SP target SP HTTP-version, single spaces)";
    }
    if (!isToken(parts[0])) {
      return "invalid method";
    }
    for (int i = 0; i < parts[1].length(); i++) {
      char c = parts[1].charAt(i);
      if (c <= ' ' || c == 0x7f) {
        return "invalid character in request target";
      }
    }
    if (!parts[2].equals("HTTP/1.1") && !parts[2].equals("HTTP/1.0")) {
      return "unsupported HTTP version";
    }
    return null;
  }

  private static String checkHeaderLine(String line, Framing framing) {
    char first = line.charAt(0);
    if (first == ' ' || first == '\t') {
      return "obs-fold (folded header line)";
    }
    int colon = line.indexOf(':');
    if (colon < 0) {
      return "header line without a colon";
    }
    if (colon == 0) {
      return "empty header name";
    }
    char beforeColon = line.charAt(colon - 1);
    if (beforeColon == ' ' || beforeColon == '\t') {
      return "whitespace before the colon in a header line";
    }
    String name = line.substring(0, colon);
    if (!isToken(name)) {
      return "invalid character in header name";
    }
    String value = line.substring(colon + 1);
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if ((c < ' ' && c != '\t') || c == 0x7f) {
        return "control character in header value";
      }
    }
    framing.add(name.toLowerCase(Locale.ROOT), value.trim());
    return null;
  }

  /** The headers that decide where this message ends and where it goes. */
  private static final class Framing {
    final List<String> contentLengths = new ArrayList<>();
    final List<String> transferCodings = new ArrayList<>();
    int transferEncodingLines;
    final List<String> hosts = new ArrayList<>();

    void add(String name, String value) {
      switch (name) {
        case "content-length" -> {
          for (String part : value.split(",", -1)) {
            contentLengths.add(part.trim());
          }
        }
        case "transfer-encoding" -> {
          transferEncodingLines++;
          for (String part : value.split(",", -1)) {
            transferCodings.add(part.trim().toLowerCase(Locale.ROOT));
          }
        }
        case "host" -> hosts.add(value);
        default -> { }
      }
    }

    String check(boolean http10, String target) {
      if (!transferCodings.isEmpty()) {
        if (!contentLengths.isEmpty()) {
          return "both Content-Length and Transfer-Encoding";
        }
        if (http10) {
          return "Transfer-Encoding in an HTTP/1.0 request";
        }
        if (transferEncodingLines != 1 || transferCodings.size() != 1 || !transferCodings.get(0).equals("chunked")) {
          return "unsupported Transfer-Encoding (only one final chunked is accepted)";
        }
      }
      if (contentLengths.size() > 1) {
        return "more than one Content-Length";
      }
      if (contentLengths.size() == 1 && !isDigits(contentLengths.get(0))) {
        return "invalid Content-Length";
      }
      if (hosts.size() > 1) {
        return "more than one Host header";
      }
      if (hosts.isEmpty() && !http10) {
        return "HTTP/1.1 request without Host";
      }
      return checkAbsoluteTarget(target);
    }

    /** An absolute-form target (a forward-proxy request) must name the same host as Host. */
    private String checkAbsoluteTarget(String target) {
      String lower = target.toLowerCase(Locale.ROOT);
      int schemeEnd = lower.startsWith("http://") ? 7 : lower.startsWith("https://") ? 8 : -1;
      if (schemeEnd < 0) {
        return null;
      }
      int authorityEnd = target.indexOf('/', schemeEnd);
      String authority = target.substring(schemeEnd, authorityEnd < 0 ? target.length() : authorityEnd);
      if (hosts.isEmpty() || !stripPort(authority).equalsIgnoreCase(stripPort(hosts.get(0)))) {
        return "absolute-form target names a host other than Host";
      }
      return null;
    }
  }

  private static String stripPort(String authority) {
    int bracket = authority.lastIndexOf(']');
    int colon = authority.lastIndexOf(':');
    return colon > bracket ? authority.substring(0, colon) : authority;
  }

  private static boolean isDigits(String value) {
    if (value.isEmpty() || value.length() > 18) {
      return false;
    }
    for (int i = 0; i < value.length(); i++) {
      if (value.charAt(i) < '0' || value.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }

  /** RFC 9110 token: visible ASCII except delimiters. */
  private static boolean isToken(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c <= ' ' || c >= 0x7f || "\"(),/:;<=>?@[\\]{}".indexOf(c) >= 0) {
        return false;
      }
    }
    return true;
  }
}
