package io.keepgate.testing;

import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * Keep-alive clients in loops, a load that accounts for every request: each sends its next
 * request as soon as a response ends, opens a new connection after {@code Connection: close}, and
 * stops when told to or when a new connection is refused (the listener has closed). A request sent
 * and not answered, or answered with a status other than 200, is a failure.
 */
public final class KeepAliveClients implements AutoCloseable {
  /** What one client saw. */
  public record Result(int answered, List<String> failures, boolean toldToClose) {
  }

  private final ExecutorService threads;
  private final List<Future<Result>> loops = new ArrayList<>();
  private final AtomicInteger answered = new AtomicInteger();
  private volatile boolean stopping;

  private KeepAliveClients(int port, int clients, IntFunction<String> pathOf) {
    threads = Executors.newFixedThreadPool(clients);
    for (int i = 0; i < clients; i++) {
      String path = pathOf.apply(i);
      loops.add(threads.submit(() -> loop(port, path)));
    }
  }

  /** Starts {@code clients} loops against 127.0.0.1:port; client {@code i} requests {@code pathOf(i)}. */
  public static KeepAliveClients start(int port, int clients, IntFunction<String> pathOf) {
    return new KeepAliveClients(port, clients, pathOf);
  }

  /** Requests answered so far, all clients together. */
  public int answered() {
    return answered.get();
  }

  /** Stops the loops after their current request and returns what each saw. */
  public List<Result> stop(Duration timeout) throws InterruptedException, ExecutionException, TimeoutException {
    stopping = true;
    return results(timeout);
  }

  /** Every failure the clients saw, from their results. */
  public static List<String> failures(List<Result> results) {
    return results.stream().flatMap(r -> r.failures().stream()).toList();
  }

  /** Waits for the loops to end by themselves (their connections refused) and returns what each saw. */
  public List<Result> awaitRefused(Duration timeout) throws InterruptedException, ExecutionException, TimeoutException {
    return results(timeout);
  }

  private List<Result> results(Duration timeout) throws InterruptedException, ExecutionException, TimeoutException {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<Result> results = new ArrayList<>();
    for (Future<Result> loop : loops) {
      results.add(loop.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
    }
    return results;
  }

  private Result loop(int port, String path) throws IOException {
    List<String> failures = new ArrayList<>();
    int count = 0;
    boolean toldToClose = false;
    while (!stopping) {
      RawClient client;
      try {
        client = new RawClient(port);
      } catch (ConnectException refused) {
        break;
      }
      try (client) {
        client.timeout(15_000);
        while (!stopping) {
          RawClient.Response response;
          try {
            client.send("GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n");
            response = client.readResponse();
          } catch (IOException e) {
            failures.add("request " + (count + 1) + " unanswered: " + e);
            return new Result(count, failures, toldToClose);
          }
          count++;
          answered.incrementAndGet();
          if (response.status() != 200) {
            failures.add(response.head() + "\r\n" + response.body());
          }
          if ("close".equals(response.header("Connection"))) {
            toldToClose = true;
            break;
          }
        }
      }
    }
    return new Result(count, failures, toldToClose);
  }

  @Override
  public void close() {
    stopping = true;
    threads.shutdownNow();
  }
}
