package io.keepgate.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A backend that misbehaves on purpose: plain blocking sockets, one thread per connection, and a
 * script per request that decides what goes back on the wire, down to a reset (RST) after part of
 * a status line. It reads request heads only (requests sent to it must have no body).
 */
public final class ScriptedBackend implements AutoCloseable {

  /** What to do with one request on one connection. */
  @FunctionalInterface
  public interface Script {
    /**
     * @param connection    the connection's number, from 1, in accept order
     * @param request       the request's number on that connection, from 1
     * @param head          the request head as received
     * @return false to stop serving the connection (it is closed, or was reset, by the script)
     */
    boolean answer(int connection, int request, String head, Wire wire) throws IOException;
  }

  /** The backend side of one connection. */
  public static final class Wire {
    private final Socket socket;
    private final OutputStream out;

    Wire(Socket socket) throws IOException {
      this.socket = socket;
      this.out = socket.getOutputStream();
    }

    public Wire write(String bytes) throws IOException {
      out.write(bytes.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      return this;
    }

    /** Closes with a reset (SO_LINGER 0): whatever was sent may arrive, then an RST. */
    public void reset() throws IOException {
      socket.setSoLinger(true, 0);
      socket.close();
    }
  }

  private final ServerSocket server;
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private final AtomicInteger accepted = new AtomicInteger();
  private final List<String> heads = new CopyOnWriteArrayList<>();
  private final Script script;

  private ScriptedBackend(Script script) throws IOException {
    this.script = script;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    threads.execute(this::acceptLoop);
  }

  public static ScriptedBackend start(Script script) throws IOException {
    return new ScriptedBackend(script);
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket socket = server.accept();
        int number = accepted.incrementAndGet();
        threads.execute(() -> serve(socket, number));
      } catch (IOException closed) {
        return;
      }
    }
  }

  private void serve(Socket socket, int connection) {
    try (socket) {
      InputStream in = socket.getInputStream();
      Wire wire = new Wire(socket);
      for (int request = 1; ; request++) {
        String head = readHead(in);
        if (head == null) {
          return;
        }
        heads.add(head);
        if (!script.answer(connection, request, head, wire)) {
          return;
        }
      }
    } catch (IOException e) {
      // the peer went away, or the script reset the socket
    }
  }

  /** The next request head, or null when the connection ended. */
  private static String readHead(InputStream in) {
    try {
      return RawClient.readHead(in);
    } catch (IOException ended) {
      return null;
    }
  }

  public String endpoint() {
    return "127.0.0.1:" + server.getLocalPort();
  }

  /** TCP connections accepted since start. */
  public int accepted() {
    return accepted.get();
  }

  /** Every request head received, in order, byte for byte (ISO-8859-1). */
  public List<String> heads() {
    return List.copyOf(heads);
  }

  @Override
  public void close() throws IOException {
    server.close();
    threads.shutdownNow();
  }
}
