package io.keepgate.testing;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A real browser for tests: Debian's headless Chromium showing one page, driven over the Chrome
 * DevTools Protocol with the JDK's WebSocket client (evaluate JavaScript in the page, take a
 * screenshot). {@code .ci/run} installs {@code chromium}.
 *
 * <p>Threading: one test thread; replies arrive on the WebSocket's thread.
 */
public final class HeadlessChromium implements AutoCloseable {
  private static final Duration WAIT = Duration.ofSeconds(30);

  private final Path profile;
  private final Process process;
  private final WebSocket page;
  private final AtomicInteger ids = new AtomicInteger();
  private final Map<Integer, CompletableFuture<JsonObject>> replies = new ConcurrentHashMap<>();

  private HeadlessChromium(Path profile, Process process, String pageSocket) throws Exception {
    this.profile = profile;
    this.process = process;
    this.page = HttpClient.newHttpClient().newWebSocketBuilder()
        .buildAsync(URI.create(pageSocket), new Replies()).get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  /** Starts Chromium on {@code url} (1400 x 900) and connects to the page. */
  public static HeadlessChromium open(String url) throws Exception {
    Path profile = Files.createTempDirectory("keepgate-chromium");
    Process process = new ProcessBuilder("chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
        "--no-first-run", "--remote-debugging-port=0", "--user-data-dir=" + profile, "--window-size=1400,900", url)
        .redirectErrorStream(true).redirectOutput(profile.resolve("chromium.log").toFile()).start();
    Path portFile = profile.resolve("DevToolsActivePort");
    Await.until("Chromium's DevTools port", WAIT, () -> {
      try {
        return Files.exists(portFile) && !Files.readAllLines(portFile).isEmpty();
      } catch (IOException e) {
        return false;
      }
    });
    int port = Integer.parseInt(Files.readAllLines(portFile).get(0).trim());
    String targets = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list"))
        .timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString()).body();
    for (Object target : new JsonArray(targets)) {
      JsonObject described = (JsonObject) target;
      if ("page".equals(described.getString("type"))) {
        return new HeadlessChromium(profile, process, described.getString("webSocketDebuggerUrl"));
      }
    }
    process.destroyForcibly();
    throw new AssertionError("Chromium shows no page: " + targets);
  }

  /** The value of a JavaScript expression evaluated in the page (JSON-compatible values only). */
  public Object evaluate(String expression) throws Exception {
    JsonObject result = call("Runtime.evaluate", new JsonObject().put("expression", expression).put("returnByValue", true));
    if (result.containsKey("exceptionDetails")) {
      throw new AssertionError(expression + ": " + result.getJsonObject("exceptionDetails").encode());
    }
    return result.getJsonObject("result").getValue("value");
  }

  /** A PNG of the page as it is shown now. */
  public byte[] screenshot() throws Exception {
    return Base64.getDecoder().decode(call("Page.captureScreenshot", new JsonObject().put("format", "png")).getString("data"));
  }

  private JsonObject call(String method, JsonObject params) throws Exception {
    int id = ids.incrementAndGet();
    CompletableFuture<JsonObject> reply = new CompletableFuture<>();
    replies.put(id, reply);
    page.sendText(new JsonObject().put("id", id).put("method", method).put("params", params).encode(), true)
        .get(WAIT.toSeconds(), TimeUnit.SECONDS);
    JsonObject message = reply.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    if (message.containsKey("error")) {
      throw new AssertionError(method + ": " + message.getJsonObject("error").encode());
    }
    return message.getJsonObject("result");
  }

  @Override
  public void close() throws Exception {
    page.abort();
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    try (Stream<Path> files = Files.walk(profile)) {
      for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(file);
      }
    } catch (IOException e) {
      // Chromium's leftovers in the temp dir: harmless
    }
  }

  /** Collects the protocol's replies (a message may come in several frames) and hands each to its caller. */
  private final class Replies implements WebSocket.Listener {
    private final StringBuilder text = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
      text.append(data);
      if (last) {
        JsonObject message = new JsonObject(text.toString());
        text.setLength(0);
        CompletableFuture<JsonObject> reply = message.containsKey("id") ? replies.remove(message.getInteger("id")) : null;
        if (reply != null) {
          reply.complete(message);
        }
      }
      socket.request(1);
      return null;
    }
  }
}
