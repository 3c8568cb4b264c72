package io.keepgate.testing;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP backend on 127.0.0.1 (or a given address), port 0, that counts what a user would check at the backend:
 * TCP connections accepted (used or not), connections open now, requests served, and the client ports seen.
 * The default handler answers 200 "ok"; tests swap in their own.
 */
public final class CountingBackend implements AutoCloseable {
  private final Vertx vertx;
  private final HttpServer server;
  private final AtomicInteger accepted = new AtomicInteger();
  private final AtomicInteger open = new AtomicInteger();
  private final AtomicInteger requests = new AtomicInteger();
  private final Set<Integer> clientPorts = ConcurrentHashMap.newKeySet();
  /** When each connection was accepted ({@link System#nanoTime}), in order. */
  private final Queue<Long> acceptedAt = new ConcurrentLinkedQueue<>();
  private volatile Handler<HttpServerRequest> handler = r -> r.response().end("ok");

  private final String host;

  private CountingBackend(Vertx vertx, HttpServerOptions options, String host, int port) throws Exception {
    this.vertx = vertx;
    // h2c off: with it on, Vert.x waits for a connection's first bytes (to tell HTTP/1 from the h2c
    // preface) before it calls the connection handler, and a connection keepgate opened and closed
    // unused would never be counted
    this.host = host;
    options.setHost(host).setPort(port).setHttp2ClearTextEnabled(false);
    this.server = vertx.createHttpServer(options)
        .connectionHandler(conn -> {
          acceptedAt.add(System.nanoTime());
          accepted.incrementAndGet();
          open.incrementAndGet();
          conn.closeHandler(v -> open.decrementAndGet());
        })
        .requestHandler(request -> {
          requests.incrementAndGet();
          clientPorts.add(request.remoteAddress().port());
          handler.handle(request);
        });
    server.listen().await(10, TimeUnit.SECONDS);
  }

  public static CountingBackend start() throws Exception {
    return start(new HttpServerOptions());
  }

  /** A backend on a free port, with these server options (their port is ignored). */
  public static CountingBackend start(HttpServerOptions options) throws Exception {
    return new CountingBackend(Vertx.vertx(), options, "127.0.0.1", 0);
  }

  /** A backend on a free port of {@code host}, e.g. an address test network namespaces reach. */
  public static CountingBackend startOn(String host) throws Exception {
    return new CountingBackend(Vertx.vertx(), new HttpServerOptions(), host, 0);
  }

  /** A backend on {@code host}:{@code port}, e.g. several loopback addresses (127.0.0.2, .3) on one port. */
  public static CountingBackend startOn(String host, int port) throws Exception {
    return new CountingBackend(Vertx.vertx(), new HttpServerOptions(), host, port);
  }

  /** A backend on a given port, e.g. to bring a "crashed" endpoint back. */
  public static CountingBackend startOnPort(int port) throws Exception {
    return new CountingBackend(Vertx.vertx(), new HttpServerOptions(), "127.0.0.1", port);
  }

  public CountingBackend handler(Handler<HttpServerRequest> handler) {
    this.handler = handler;
    return this;
  }

  public Vertx vertx() {
    return vertx;
  }

  public int port() {
    return server.actualPort();
  }

  public String endpoint() {
    return host + ":" + port();
  }

  /** TCP connections accepted since start. */
  public int accepted() {
    return accepted.get();
  }

  /** When each TCP connection was accepted ({@link System#nanoTime}), oldest first. */
  public List<Long> acceptTimes() {
    return List.copyOf(acceptedAt);
  }

  /** TCP connections open now. */
  public int open() {
    return open.get();
  }

  public int requests() {
    return requests.get();
  }

  /** Distinct client (keepgate-side) ports seen: one per upstream connection used. */
  public Set<Integer> clientPorts() {
    return Set.copyOf(clientPorts);
  }

  @Override
  public void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }
}
