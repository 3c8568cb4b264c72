package io.keepgate.testing;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

/**
 * A keep-alive HTTP/1.1 backend run as its own process inside a test network namespace
 * ({@code ip netns exec NS java ... NamespaceBackend HOST PORT}). {@code /} answers "ok";
 * {@code /slow} answers after 30 s. Prints {@code listening} once bound. JDK only, so it needs no
 * classpath beyond the test classes.
 */
public final class NamespaceBackend {
  private NamespaceBackend() {}

  public static void main(String[] args) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(args[0], Integer.parseInt(args[1])), 64);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext("/", exchange -> {
      if (exchange.getRequestURI().getPath().equals("/slow")) {
        try {
          Thread.sleep(30_000); // a backend that holds the request: this is its own process, not an event loop
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      byte[] body = "ok".getBytes(StandardCharsets.US_ASCII);
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    server.start();
    System.out.println("listening");
    System.out.flush();
  }
}
