package io.keepgate.http1;

import io.netty.buffer.ByteBuf;

/**
 * Follows Netty's decoding of a chunked body byte for byte, so that every chunk-size line is judged
 * before Netty parses it. Netty reads the size into an {@code int} that silently wraps
 * ({@code 100000005} hex becomes 5, and the rest of the chunk is read as the next message) and
 * stops at the first space ({@code "5 6"} is 5); here a size line must be {@code 1*HEXDIG}, at most
 * {@link Integer#MAX_VALUE}, then chunk extensions as RFC 9112 section 7.1.1 defines them, and end
 * in CRLF. Extensions are judged here and then blanked out in place: Netty 4.2.12 refuses a valid
 * one ending in a token value ({@code 5;name=value}), and they are never forwarded anyway, since
 * the body is re-chunked upstream.
 *
 * <p>The decoder calls {@link #check} before each {@code decode} and {@link #consumed} after it.
 * Netty consumes a size line whole, then chunk data, then the two-byte delimiter, never past the
 * next size line in one call; so the phase here always matches Netty's state.
 *
 * <p>Threading: one per decoder, confined to the connection's event loop.
 */
final class ChunkFraming {
  private enum Phase {
    /** At a chunk-size line. */
    SIZE,
    /** Inside chunk data: {@link #remaining} bytes to go. */
    DATA,
    /**
     * At the CRLF after chunk data: {@link #remaining} bytes to go. Netty 4.2 refuses anything but
     * CRLF here itself (RequestDecoderTest holds it to that), so it is not judged twice.
     */
    DELIMITER,
    /** After the last chunk: the trailer section, which the head scanner judges. */
    TRAILERS
  }

  private final int maxLineLength;
  private Phase phase = Phase.SIZE;
  private long remaining;
  /** The length (CRLF included) of the size line at the reader index once judged; -1 before. */
  private int checkedLineLength = -1;
  private long checkedSize;

  ChunkFraming(int maxLineLength) {
    this.maxLineLength = maxLineLength;
  }

  void start() {
    phase = Phase.SIZE;
    checkedLineLength = -1;
  }

  boolean inTrailers() {
    return phase == Phase.TRAILERS;
  }

  /** Judges the size line at the reader index, when one is complete and not judged yet. */
  RequestRefusal check(ByteBuf in) {
    if (phase != Phase.SIZE || checkedLineLength >= 0) {
      return null;
    }
    int from = in.readerIndex();
    int lf = in.indexOf(from, from + Math.min(in.readableBytes(), maxLineLength + 2), (byte) '\n');
    if (lf < 0) {
      return null; // incomplete: Netty waits too, or fails it as too long
    }
    if (lf == from || in.getByte(lf - 1) != '\r') {
      return new RequestRefusal(400, "chunk-size line without CRLF");
    }
    long size = 0;
    int i = from;
    for (; i < lf - 1; i++) {
      int digit = hexDigit(in.getByte(i));
      if (digit < 0) {
        break;
      }
      size = size * 16 + digit;
      if (size > Integer.MAX_VALUE) {
        return new RequestRefusal(400, "chunk size too large");
      }
    }
    if (i == from) {
      return new RequestRefusal(400, "invalid chunk size");
    }
    if (!validExtensions(in, i, lf - 1)) {
      return new RequestRefusal(400, "invalid chunk size or extension");
    }
    for (int blank = i; blank < lf - 1; blank++) {
      in.setByte(blank, ' ');
    }
    checkedSize = size;
    checkedLineLength = lf + 1 - from;
    return null;
  }

  /** {@code *( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] )} over {@code [from, to)}. */
  private static boolean validExtensions(ByteBuf in, int from, int to) {
    int i = from;
    while (true) {
      i = skipWhitespace(in, i, to);
      if (i == to) {
        return true;
      }
      if (in.getByte(i) != ';') {
        return false;
      }
      i = skipWhitespace(in, i + 1, to);
      int nameEnd = skipToken(in, i, to);
      if (nameEnd == i) {
        return false;
      }
      i = skipWhitespace(in, nameEnd, to);
      if (i < to && in.getByte(i) == '=') {
        i = skipWhitespace(in, i + 1, to);
        int valueEnd = i < to && in.getByte(i) == '"' ? skipQuoted(in, i, to) : skipToken(in, i, to);
        if (valueEnd <= i) {
          return false;
        }
        i = valueEnd;
      }
    }
  }

  private static int skipWhitespace(ByteBuf in, int i, int to) {
    while (i < to && (in.getByte(i) == ' ' || in.getByte(i) == '\t')) {
      i++;
    }
    return i;
  }

  private static int skipToken(ByteBuf in, int i, int to) {
    while (i < to && HeadScanner.isTokenChar(in.getByte(i))) {
      i++;
    }
    return i;
  }

  /** The index past a quoted-string starting at {@code i}, or -1 when it is malformed. */
  private static int skipQuoted(ByteBuf in, int i, int to) {
    for (i++; i < to; i++) {
      int b = in.getByte(i) & 0xFF;
      if (b == '"') {
        return i + 1;
      }
      if (b == '\\') {
        i++;
        if (i == to || !isQuotedChar(in.getByte(i) & 0xFF) && in.getByte(i) != '"' && in.getByte(i) != '\\') {
          return -1;
        }
      } else if (!isQuotedChar(b)) {
        return -1;
      }
    }
    return -1;
  }

  /** qdtext: HTAB, SP and visible characters but DQUOTE and backslash, and obs-text. */
  private static boolean isQuotedChar(int b) {
    return b == '\t' || b == ' ' || (b >= 0x21 && b != '"' && b != '\\' && b != 0x7F);
  }

  private static int hexDigit(byte b) {
    if (b >= '0' && b <= '9') {
      return b - '0';
    }
    if (b >= 'a' && b <= 'f') {
      return b - 'a' + 10;
    }
    return b >= 'A' && b <= 'F' ? b - 'A' + 10 : -1;
  }

  /** Netty consumed {@code bytes} of the body. */
  void consumed(int bytes) {
    while (bytes > 0) {
      switch (phase) {
        case SIZE -> {
          if (checkedLineLength < 0 || bytes < checkedLineLength) {
            throw new IllegalStateException("chunk framing out of step with the decoder");
          }
          bytes -= checkedLineLength;
          checkedLineLength = -1;
          remaining = checkedSize;
          phase = checkedSize == 0 ? Phase.TRAILERS : Phase.DATA;
          if (phase == Phase.TRAILERS) {
            return;
          }
        }
        case DATA -> {
          long n = Math.min(bytes, remaining);
          remaining -= n;
          bytes -= (int) n;
          if (remaining == 0) {
            phase = Phase.DELIMITER;
            remaining = 2;
          }
        }
        case DELIMITER -> {
          long n = Math.min(bytes, remaining);
          remaining -= n;
          bytes -= (int) n;
          if (remaining == 0) {
            phase = Phase.SIZE;
          }
        }
        case TRAILERS -> {
          return;
        }
      }
    }
  }
}
