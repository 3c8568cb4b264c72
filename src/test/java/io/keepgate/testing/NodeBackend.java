package io.keepgate.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A Node.js HTTP server in a child process, as users run their backends: Node's own keep-alive
 * handling, which announces {@code Keep-Alive: timeout=N} and closes idle connections after N
 * seconds. Skipped locally when {@code node} is missing; under CI ({@code CI=true}), where
 * {@code .ci/run} installs it, a missing node fails the test.
 */
public final class NodeBackend implements AutoCloseable {
  private final Process process;
  private final int port;

  private NodeBackend(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  /** A server answering "node ok" to everything, with {@code server.keepAliveTimeout} in milliseconds. */
  public static NodeBackend start(int keepAliveTimeoutMillis) throws Exception {
    if (!installed()) {
      if ("true".equals(System.getenv("CI"))) {
        throw new AssertionError("node is not installed; .ci/run installs it (package npm)");
      }
      Assumptions.abort("node is not installed (CI has it)");
    }
    String script = "const http = require('http');"
        + "const server = http.createServer((req, res) => { req.resume(); req.on('end', () => res.end('node ok')); });"
        + "server.keepAliveTimeout = " + keepAliveTimeoutMillis + ";"
        + "server.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));";
    Process process = new ProcessBuilder("node", "-e", script).redirectErrorStream(true).start();
    BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    String line = CompletableFuture.supplyAsync(() -> {
      try {
        return out.readLine();
      } catch (IOException e) {
        return null;
      }
    }).get(20, TimeUnit.SECONDS);
    if (line == null || !line.startsWith("listening ")) {
      process.destroyForcibly();
      throw new AssertionError("node did not start: " + line);
    }
    return new NodeBackend(process, Integer.parseInt(line.substring("listening ".length()).trim()));
  }

  private static boolean installed() {
    try {
      return new ProcessBuilder("node", "--version").start().waitFor(10, TimeUnit.SECONDS);
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  public String endpoint() {
    return "127.0.0.1:" + port;
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
