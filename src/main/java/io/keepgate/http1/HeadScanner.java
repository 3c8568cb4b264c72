package io.keepgate.http1;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;

/**
 * A strict look at the raw bytes of a request head (or of a chunked body's trailer section), one
 * byte at a time and resumable across reads, run in place on the decoder's own buffer before
 * Netty parses the same bytes. It refuses what Netty accepts or erases and two HTTP parsers could
 * read differently (RFC 9112 sections 2.2, 3 and 5): bare CR or LF, obs-fold (which Netty
 * unfolds), whitespace before a colon, control characters, any request line but
 * {@code token SP target SP HTTP/d.d} with single spaces (Netty accepts runs of whitespace), and
 * versions other than HTTP/1.0 and HTTP/1.1. It also counts Content-Length lines, which Netty
 * merges into one for HTTP/1.0 whatever their values.
 *
 * <p>Threading: one per decoder, confined to the connection's event loop.
 */
final class HeadScanner implements ByteProcessor {
  private static final boolean[] TCHAR = new boolean[256];

  static {
    for (int c = '0'; c <= '9'; c++) {
      TCHAR[c] = true;
    }
    for (int c = 'a'; c <= 'z'; c++) {
      TCHAR[c] = true;
      TCHAR[c - 32] = true;
    }
    for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
      TCHAR[c] = true;
    }
  }

  static boolean isTokenChar(byte b) {
    return TCHAR[b & 0xFF];
  }

  static final String MALFORMED_REQUEST_LINE =
      "malformed request line (expected: METHOD SP target SP HTTP-version, single spaces)";
  private static final byte[] HTTP_SLASH = {'H', 'T', 'T', 'P', '/'};
  private static final byte[] CONTENT_LENGTH = {'c', 'o', 'n', 't', 'e', 'n', 't', '-', 'l', 'e', 'n', 'g', 't', 'h'};

  private enum State {
    /** Before the request line: empty lines (CRLF) may come first. */
    LEADING,
    METHOD,
    /** Right after the first SP. */
    TARGET_START,
    TARGET,
    /** After the second SP: {@code HTTP/d.d}, counted by {@link #versionBytes}. */
    VERSION,
    /** At the start of a header line, or of the empty line that ends the head. */
    LINE_START,
    NAME,
    VALUE,
    /** A CR was seen; only LF may follow. */
    CR,
    DONE,
    FAILED
  }

  private State state;
  /** The state whose line the pending CR ends. */
  private State lineState;
  private int versionBytes;
  /** Bytes of the current header name, and whether they spell content-length so far. */
  private int nameBytes;
  private boolean nameMayBeContentLength;
  private int contentLengthLines;
  private int major;
  private int minor;
  private RequestRefusal refusal;

  /** Starts on a request head. */
  void startHead() {
    state = State.LEADING;
    versionBytes = 0;
    contentLengthLines = 0;
    refusal = null;
  }

  /** Starts on the trailer section of a chunked body: header lines and an empty line. */
  void startTrailers() {
    state = State.LINE_START;
    refusal = null;
  }

  /**
   * Scans {@code buffer[from, to)}: returns the index just past the head's final LF once the head
   * is complete, -1 when every byte was consumed and more are needed; {@link #refusal()} is set
   * (and the index of the offending byte returned) on a refused byte.
   */
  int scan(ByteBuf buffer, int from, int to) {
    if (from >= to) {
      return -1;
    }
    int stoppedAt = buffer.forEachByte(from, to - from, this);
    return stoppedAt < 0 ? -1 : state == State.DONE ? stoppedAt + 1 : stoppedAt;
  }

  boolean done() {
    return state == State.DONE;
  }

  /** The refusal, once a byte was refused; {@code null} until then. */
  RequestRefusal refusal() {
    return refusal;
  }

  @Override
  public boolean process(byte value) {
    int b = value & 0xFF;
    switch (state) {
      case LEADING -> {
        if (b == '\r') {
          return cr();
        }
        if (!TCHAR[b]) {
          return fail(b == '\n' ? "bare LF line ending" : MALFORMED_REQUEST_LINE);
        }
        state = State.METHOD;
      }
      case METHOD -> {
        if (b == ' ') {
          state = State.TARGET_START;
        } else if (b == '\r') {
          return cr();
        } else if (!TCHAR[b]) {
          return fail(b == '\n' ? "bare LF line ending" : "invalid method");
        }
      }
      case TARGET_START, TARGET -> {
        if (b == ' ') {
          if (state == State.TARGET_START) {
            return fail(MALFORMED_REQUEST_LINE);
          }
          state = State.VERSION;
          versionBytes = 0;
        } else if (b == '\r') {
          return cr();
        } else if (b == '\n') {
          return fail("bare LF line ending");
        } else if (b < 0x21 || b == 0x7F) {
          return fail("invalid character in request target");
        } else {
          state = State.TARGET;
        }
      }
      case VERSION -> {
        if (b == '\r') {
          return cr();
        }
        if (b == '\n') {
          return fail("bare LF line ending");
        }
        if (!versionByte(b)) {
          return fail(MALFORMED_REQUEST_LINE);
        }
      }
      case LINE_START -> {
        if (b == '\r') {
          return cr();
        }
        if (b == ' ' || b == '\t') {
          return fail("obs-fold (folded header line)");
        }
        if (b == ':') {
          return fail("empty header name");
        }
        if (!TCHAR[b]) {
          return fail(b == '\n' ? "bare LF line ending" : "invalid character in header name");
        }
        state = State.NAME;
        nameBytes = 0;
        nameMayBeContentLength = true;
        nameByte(b);
      }
      case NAME -> {
        if (b == ':') {
          state = State.VALUE;
          if (nameMayBeContentLength && nameBytes == CONTENT_LENGTH.length && ++contentLengthLines > 1) {
            return fail("more than one Content-Length");
          }
        } else if (b == ' ' || b == '\t') {
          return fail("whitespace before the colon in a header line");
        } else if (b == '\r' || b == '\n') {
          return fail("header line without a colon");
        } else if (!TCHAR[b]) {
          return fail("invalid character in header name");
        } else {
          nameByte(b);
        }
      }
      case VALUE -> {
        if (b == '\r') {
          return cr();
        }
        if (b == '\n') {
          return fail("bare LF line ending");
        }
        if ((b < 0x20 && b != '\t') || b == 0x7F) {
          return fail("control character in header value");
        }
      }
      case CR -> {
        if (b != '\n') {
          return fail("bare CR in request head");
        }
        return endOfLine();
      }
      default -> {
        return false;
      }
    }
    return true;
  }

  private void nameByte(int b) {
    if (nameMayBeContentLength) {
      nameMayBeContentLength = nameBytes < CONTENT_LENGTH.length && (b | 0x20) == CONTENT_LENGTH[nameBytes];
    }
    nameBytes++;
  }

  /** Accepts one byte of {@code HTTP/d.d}; false when the version cannot be well-formed. */
  private boolean versionByte(int b) {
    int i = versionBytes++;
    if (i < HTTP_SLASH.length) {
      return b == HTTP_SLASH[i];
    }
    return switch (i) {
      case 5 -> {
        major = b - '0';
        yield b >= '0' && b <= '9';
      }
      case 6 -> b == '.';
      case 7 -> {
        minor = b - '0';
        yield b >= '0' && b <= '9';
      }
      default -> false;
    };
  }

  private boolean cr() {
    lineState = state;
    state = State.CR;
    return true;
  }

  /** A CRLF ended the line that was in {@link #lineState}. */
  private boolean endOfLine() {
    switch (lineState) {
      case LEADING -> state = State.LEADING;
      case VERSION -> {
        if (versionBytes != 8) {
          return fail(MALFORMED_REQUEST_LINE);
        }
        if (major != 1 || minor > 1) {
          refusal = new RequestRefusal(505, "unsupported HTTP version");
          state = State.FAILED;
          return false;
        }
        state = State.LINE_START;
      }
      case VALUE -> state = State.LINE_START;
      case LINE_START -> {
        state = State.DONE;
        return false;
      }
      default -> {
        return fail(MALFORMED_REQUEST_LINE);
      }
    }
    return true;
  }

  private boolean fail(String reason) {
    refusal = new RequestRefusal(400, reason);
    state = State.FAILED;
    return false;
  }
}
