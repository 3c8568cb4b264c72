package io.keepgate.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A TCP relay on a fixed loopback port in front of a server, that a test can cut ({@link #cut}:
 * every relayed connection closed), blackhole ({@link #blackhole}: connections stay open, no byte
 * passes, as behind a proxy or load balancer whose far side vanished) or take down and bring back
 * ({@link #stop}, {@link #start}), as a network fault or a restarting server would. Blocking sockets, two threads per connection.
 *
 * <p>Threading: any thread.
 */
public final class TcpRelay implements AutoCloseable {
  private final InetSocketAddress target;
  private final int port;
  private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
    Thread thread = new Thread(r, "tcp-relay");
    thread.setDaemon(true);
    return thread;
  });
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private volatile ServerSocket listener;
  private volatile boolean blackholed;

  public TcpRelay(InetSocketAddress target) throws IOException {
    this.target = target;
    try (ServerSocket probe = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      this.port = probe.getLocalPort();
    }
    start();
  }

  public int port() {
    return port;
  }

  /** Accepts and relays connections (again). */
  public synchronized void start() throws IOException {
    ServerSocket server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    listener = server;
    threads.execute(() -> accept(server));
  }

  /** Refuses new connections and closes the open ones. */
  public synchronized void stop() throws IOException {
    listener.close();
    cut();
  }

  /**
   * Closes every relayed connection, both ends, as a restarting server or a load balancer's idle
   * timeout does; new ones are still accepted. A close, not a reset: fabric8's mock API server
   * blocks its event loop for seconds on a reset watch.
   */
  public void cut() {
    for (Socket socket : open) {
      try {
        socket.close();
      } catch (IOException e) {
        // already gone
      }
    }
    open.clear();
  }

  /** From now on every byte either way is read and dropped; the connections stay open (TCP keeps acknowledging). */
  public void blackhole() {
    blackholed = true;
  }

  private void accept(ServerSocket server) {
    while (!server.isClosed()) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return; // closed by stop()
      }
      try {
        Socket upstream = new Socket(target.getAddress(), target.getPort());
        open.add(client);
        open.add(upstream);
        threads.execute(() -> pipe(client, upstream));
        threads.execute(() -> pipe(upstream, client));
      } catch (IOException e) {
        closeQuietly(client); // the target refused: the client sees its connection end
      }
    }
  }

  private void pipe(Socket from, Socket to) {
    byte[] buffer = new byte[16384];
    try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
      int n;
      while ((n = in.read(buffer)) >= 0) {
        if (!blackholed) {
          out.write(buffer, 0, n);
          out.flush();
        }
      }
    } catch (IOException e) {
      // one side went away
    } finally {
      closeQuietly(from);
      closeQuietly(to);
      open.remove(from);
      open.remove(to);
    }
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // already closed
    }
  }

  @Override
  public void close() throws IOException {
    stop();
    threads.shutdownNow();
  }
}
