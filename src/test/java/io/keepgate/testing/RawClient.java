package io.keepgate.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * A blocking socket client for exact bytes on the wire: what the JDK and Vert.x clients would
 * normalise away (hop-by-hop headers, framing, HTTP/1.0) is visible here. Test thread only.
 */
public final class RawClient implements AutoCloseable {
  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  public RawClient(int port) throws IOException {
    this("127.0.0.1", port);
  }

  public RawClient(String host, int port) throws IOException {
    socket = new Socket(host, port);
    socket.setSoTimeout(10_000);
    socket.setTcpNoDelay(true); // small writes leave as written: tests split requests on purpose
    in = socket.getInputStream();
    out = socket.getOutputStream();
  }

  public RawClient send(String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
    return this;
  }

  /**
   * Sends the text one byte per write, so the server sees the message split at every byte (as far
   * as the kernel keeps the writes apart). Stops early, without failing, if the server closes.
   */
  public RawClient sendByteByByte(String text) throws IOException {
    byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
    try {
      for (byte b : bytes) {
        out.write(b);
        out.flush();
      }
    } catch (IOException closedByServer) {
      // a refusal may close the connection before the last bytes are sent; the response is still readable
    }
    return this;
  }

  /** Reads one response: head, then a body framed by Content-Length, chunked, or connection close. */
  public Response readResponse() throws IOException {
    return readResponse(false);
  }

  /** As {@link #readResponse()}, for a response to HEAD (no body whatever the headers say). */
  public Response readResponse(boolean toHead) throws IOException {
    String head = readHead();
    Response response = new Response(head, "");
    int status = response.status();
    if (toHead || status == 204 || status == 304 || status / 100 == 1) {
      return response;
    }
    String length = response.header("content-length");
    String body;
    if (length != null) {
      body = new String(in.readNBytes(Integer.parseInt(length.trim())), StandardCharsets.ISO_8859_1);
    } else if ("chunked".equalsIgnoreCase(response.header("transfer-encoding"))) {
      body = readChunked();
    } else {
      body = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
    }
    return new Response(head, body);
  }

  /** Reads exactly {@code count} bytes; fails if the connection ends first. */
  public String readBytes(int count) throws IOException {
    byte[] bytes = in.readNBytes(count);
    if (bytes.length < count) {
      throw new IOException("connection closed after " + bytes.length + " of " + count + " bytes");
    }
    return new String(bytes, StandardCharsets.ISO_8859_1);
  }

  /** Reads a head (up to and including the blank line). */
  public String readHead() throws IOException {
    return readHead(in);
  }

  /** Reads a head (up to and including the blank line) from any stream. */
  public static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int state = 0;
    while (state < 4) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("connection closed after " + head.size() + " bytes of head: " + head);
      }
      head.write(b);
      state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
    }
    return head.toString(StandardCharsets.ISO_8859_1);
  }

  private String readChunked() throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      String sizeLine = readLine();
      int size = Integer.parseInt(sizeLine.split(";")[0].trim(), 16);
      if (size == 0) {
        while (!readLine().isEmpty()) {
          // trailers
        }
        return body.toString(StandardCharsets.ISO_8859_1);
      }
      body.write(in.readNBytes(size));
      readLine();
    }
  }

  private String readLine() throws IOException {
    StringBuilder line = new StringBuilder();
    int b;
    while ((b = in.read()) != '\n') {
      if (b < 0) {
        throw new IOException("connection closed mid-line");
      }
      if (b != '\r') {
        line.append((char) b);
      }
    }
    return line.toString();
  }

  /** Whether the server closed the connection (EOF) within the socket timeout. */
  public boolean closedByServer() throws IOException {
    try {
      return in.read() < 0;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset
    }
  }

  /**
   * Reads until the server closes (EOF) and returns every byte that came before it; a socket
   * timeout first fails with {@link SocketTimeoutException}.
   */
  public String readToEnd() throws IOException {
    return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
  }

  public RawClient timeout(int millis) throws IOException {
    socket.setSoTimeout(millis);
    return this;
  }

  public int localPort() {
    return socket.getLocalPort();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }

  /** A response as read off the wire. */
  public record Response(String head, String body) {
    public int status() {
      return Integer.parseInt(head.substring(9, 12));
    }

    /** The first value of a header (case-insensitive name), or null. */
    public String header(String name) {
      for (String line : head.split("\r\n")) {
        int colon = line.indexOf(':');
        if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) {
          return line.substring(colon + 1).trim();
        }
      }
      return null;
    }
  }
}
