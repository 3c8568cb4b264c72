package io.keepgate.testing;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A backend that writes exact bytes: a Vert.x NetServer on 127.0.0.1, port 0, for what an HTTP
 * server library would not send (hop-by-hop headers in a response, chunked framing under the
 * test's control). It reads request heads only (requests sent to it must have no body) and
 * answers each head with the byte chunks the test's responder returns, written one write per
 * chunk with a short pause between them, so each may arrive at keepgate as its own read.
 */
public final class RawBackend implements AutoCloseable {
  private static final byte[] END_OF_HEAD = {'\r', '\n', '\r', '\n'};

  private final Vertx vertx = Vertx.vertx();
  private final NetServer server;
  private final AtomicInteger accepted = new AtomicInteger();
  private final List<String> heads = new CopyOnWriteArrayList<>();
  private volatile Function<String, List<String>> responder;

  private RawBackend(Function<String, List<String>> responder) throws Exception {
    this.responder = responder;
    this.server = vertx.createNetServer().connectHandler(this::serve);
    server.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
  }

  /**
   * Starts a backend answering every request head with the chunks {@code responder} returns for
   * it (the chunks are written as they are, byte for byte, ISO-8859-1).
   */
  public static RawBackend start(Function<String, List<String>> responder) throws Exception {
    return new RawBackend(responder);
  }

  /** Starts a backend answering every request head with the same bytes. */
  public static RawBackend answering(String... chunks) throws Exception {
    List<String> fixed = List.of(chunks);
    return new RawBackend(head -> fixed);
  }

  public RawBackend responder(Function<String, List<String>> responder) {
    this.responder = responder;
    return this;
  }

  private void serve(NetSocket socket) {
    accepted.incrementAndGet();
    Buffer[] pending = {Buffer.buffer()};
    socket.handler(data -> {
      pending[0].appendBuffer(data);
      int end;
      while ((end = indexOf(pending[0], END_OF_HEAD)) >= 0) {
        String head = pending[0].getString(0, end + 4, StandardCharsets.ISO_8859_1.name());
        pending[0] = pending[0].getBuffer(end + 4, pending[0].length());
        heads.add(head);
        writeChunks(socket, responder.apply(head), 0);
      }
    });
  }

  private void writeChunks(NetSocket socket, List<String> chunks, int index) {
    if (index >= chunks.size()) {
      return;
    }
    socket.write(Buffer.buffer(chunks.get(index).getBytes(StandardCharsets.ISO_8859_1)));
    if (index + 1 < chunks.size()) {
      vertx.setTimer(20, id -> writeChunks(socket, chunks, index + 1));
    }
  }

  private static int indexOf(Buffer buffer, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= buffer.length(); i++) {
      for (int j = 0; j < needle.length; j++) {
        if (buffer.getByte(i + j) != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  public int port() {
    return server.actualPort();
  }

  public String endpoint() {
    return "127.0.0.1:" + port();
  }

  /** TCP connections accepted since start. */
  public int accepted() {
    return accepted.get();
  }

  /** Every request head received, in order, exactly as sent by keepgate. */
  public List<String> heads() {
    return List.copyOf(heads);
  }

  @Override
  public void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }
}
