package io.keepgate.testing;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * An HTTP/2 client that writes frames byte by byte, for tests of what well-behaved clients never
 * send: floods, resets, streams past the limit, windows never given back. Prior knowledge (h2c)
 * on a plain socket; request heads are HPACK-encoded from the static table and literals, response
 * heads decoded with Netty's decoder.
 *
 * <p>Threading: one test thread.
 */
public final class RawHttp2Client implements AutoCloseable {
  /** Frame types (RFC 9113 section 6). */
  public static final int DATA = 0x0;
  public static final int HEADERS = 0x1;
  public static final int RST_STREAM = 0x3;
  public static final int SETTINGS = 0x4;
  public static final int GOAWAY = 0x7;
  public static final int WINDOW_UPDATE = 0x8;
  /** Flags. */
  public static final int END_STREAM = 0x1;
  public static final int ACK = 0x1;
  public static final int END_HEADERS = 0x4;

  /** One frame read. */
  public record Frame(int type, int flags, int stream, byte[] payload) {
    /** The error code of a RST_STREAM or GOAWAY frame. */
    public long errorCode() {
      int at = type == GOAWAY ? 4 : 0;
      return ((payload[at] & 0xffL) << 24) | ((payload[at + 1] & 0xff) << 16) | ((payload[at + 2] & 0xff) << 8)
          | (payload[at + 3] & 0xff);
    }

    public boolean endsStream() {
      return (flags & END_STREAM) != 0;
    }
  }

  private final Socket socket;
  private final OutputStream out;
  private final DataInputStream in;
  private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
  private final DefaultHttp2HeadersDecoder headersDecoder = new DefaultHttp2HeadersDecoder(false);

  /** Connects and queues the preface and an empty SETTINGS frame (default windows and limits). */
  public RawHttp2Client(int port) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(10_000);
    out = socket.getOutputStream();
    in = new DataInputStream(socket.getInputStream());
    pending.writeBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    frame(SETTINGS, 0, 0, new byte[0]);
  }

  /** Queues one frame; {@link #flush} sends what is queued. */
  public RawHttp2Client frame(int type, int flags, int stream, byte[] payload) {
    pending.write(payload.length >>> 16);
    pending.write(payload.length >>> 8);
    pending.write(payload.length);
    pending.write(type);
    pending.write(flags);
    pending.write(stream >>> 24);
    pending.write(stream >>> 16);
    pending.write(stream >>> 8);
    pending.write(stream);
    pending.writeBytes(payload);
    return this;
  }

  /** Queues a GET of {@code path} on stream {@code stream}, ending it, with {@code extra} header literals. */
  public RawHttp2Client get(int stream, String path, String... extraNamesAndValues) {
    ByteArrayOutputStream block = new ByteArrayOutputStream();
    block.writeBytes(new byte[] {(byte) 0x82, (byte) 0x86}); // :method GET, :scheme http
    literal(block, 4, null, path); // :path, name from the static table
    literal(block, 1, null, "test"); // :authority
    for (int i = 0; i < extraNamesAndValues.length; i += 2) {
      literal(block, 0, extraNamesAndValues[i], extraNamesAndValues[i + 1]);
    }
    return frame(HEADERS, END_HEADERS | END_STREAM, stream, block.toByteArray());
  }

  /** Queues the head of a POST of {@code path} on stream {@code stream}, its body to follow in DATA frames. */
  public RawHttp2Client post(int stream, String path) {
    ByteArrayOutputStream block = new ByteArrayOutputStream();
    block.writeBytes(new byte[] {(byte) 0x83, (byte) 0x86}); // :method POST, :scheme http
    literal(block, 4, null, path);
    literal(block, 1, null, "test");
    return frame(HEADERS, END_HEADERS, stream, block.toByteArray());
  }

  /** A literal header field without indexing: a static-table name index, or (0) a literal name. Lengths < 127. */
  private static void literal(ByteArrayOutputStream block, int nameIndex, String name, String value) {
    block.write(nameIndex);
    if (nameIndex == 0) {
      string(block, name);
    }
    string(block, value);
  }

  private static void string(ByteArrayOutputStream block, String text) {
    byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
    if (bytes.length < 127) {
      block.write(bytes.length);
    } else { // HPACK integer with a 7-bit prefix
      block.write(127);
      int rest = bytes.length - 127;
      while (rest >= 128) {
        block.write((rest & 0x7f) | 0x80);
        rest >>>= 7;
      }
      block.write(rest);
    }
    block.writeBytes(bytes);
  }

  public RawHttp2Client rst(int stream, int errorCode) {
    return frame(RST_STREAM, 0, stream, int32(errorCode));
  }

  public RawHttp2Client windowUpdate(int stream, int increment) {
    return frame(WINDOW_UPDATE, 0, stream, int32(increment));
  }

  private static byte[] int32(int value) {
    return new byte[] {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
  }

  public void flush() throws IOException {
    out.write(pending.toByteArray());
    out.flush();
    pending.reset();
  }

  /** The next frame from the server; its SETTINGS are acknowledged (they apply from then on), as clients must. */
  public Frame read() throws IOException {
    int length = in.readUnsignedShort() << 8 | in.readUnsignedByte();
    int type = in.readUnsignedByte();
    int flags = in.readUnsignedByte();
    int stream = in.readInt() & 0x7fffffff;
    Frame frame = new Frame(type, flags, stream, in.readNBytes(length));
    if (type == SETTINGS && (flags & ACK) == 0) {
      frame(SETTINGS, ACK, 0, new byte[0]).flush();
    }
    return frame;
  }

  /** Reads until the server's SETTINGS are acknowledged: its limits apply from then on. */
  public RawHttp2Client settled() throws IOException {
    flush();
    while (true) {
      Frame frame = read();
      if (frame.type() == SETTINGS && (frame.flags() & ACK) == 0) {
        return this;
      }
    }
  }

  /** Frames until one of {@code type} on {@code stream}; frames of others are skipped. */
  public Frame readUntil(int type, int stream) throws IOException {
    while (true) {
      Frame frame = read();
      if (frame.type() == type && frame.stream() == stream) {
        return frame;
      }
    }
  }

  /** Whether the server closed the connection (after any frames still unread). */
  public boolean closedByServer() throws IOException {
    try {
      while (true) {
        read();
      }
    } catch (java.io.EOFException e) {
      return true;
    }
  }

  /** Decodes a HEADERS frame's block (no padding, no priority, no CONTINUATION). */
  public Http2Headers headers(Frame frame) throws Http2Exception {
    return headersDecoder.decodeHeaders(frame.stream(), Unpooled.wrappedBuffer(frame.payload()));
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
