package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.GatewayProcess;
import io.keepgate.testing.TestCertificates;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The claim under test (SPEC section 1): the packaged jar checks its configuration before doing
 * anything else. {@code --validate} exits 0 for a valid config and 2 for an invalid one; an
 * invalid config prints one stderr line per problem, each naming the JSON path and the reason,
 * and a node given one never starts half-configured: it exits 2 without binding its port. Bad
 * arguments exit 2; {@code KEEPGATE_CONFIG} names the config; the repo's demo config is valid.
 * Each test runs {@code java -jar target/keepgate.jar} as a user would.
 */
class CommandLineIT {
  private static final Duration RUN_TIMEOUT = Duration.ofSeconds(30);

  @TempDir
  Path dir;

  /** A valid config: upstream "up" on 127.0.0.1:9001, route "all" to it, ports 0. */
  private static JsonObject valid() {
    return GatewayHarness.config("127.0.0.1:9001");
  }

  private Path write(String name, String text) throws IOException {
    Path file = dir.resolve(name);
    Files.writeString(file, text);
    return file;
  }

  private Path write(JsonObject config) throws IOException {
    return write("keepgate.json", config.encodePrettily());
  }

  private static GatewayProcess.Result validate(Path config) throws IOException {
    return GatewayProcess.run(RUN_TIMEOUT, Map.of(), "--validate", "--config", config.toString());
  }

  /** Exit 2, nothing on stdout, and exactly these lines on stderr. */
  private static void assertInvalid(GatewayProcess.Result result, String... problems) {
    assertEquals(2, result.exitCode(), result.toString());
    assertEquals(List.of(problems), result.stderrLines(), result.toString());
    assertEquals("", result.stdout(), result.toString());
  }

  @Test
  void validateExitsZeroForAValidConfigAndSaysSo() throws Exception {
    Path config = write(valid());
    GatewayProcess.Result result = validate(config);
    assertEquals(0, result.exitCode(), result.toString());
    assertEquals(config + ": valid", result.stdout().strip(), result.toString());
    assertEquals("", result.stderr(), result.toString());
  }

  @Test
  void anUnknownKeyIsReportedWithItsPath() throws Exception {
    JsonObject config = valid();
    GatewayHarness.pool(config).put("maxConnections", 8); // the real key is maxConnectionsPerEndpoint
    assertInvalid(validate(write(config)), "upstreams[0].pool.maxConnections: unknown key");
  }

  @Test
  void aValueOfTheWrongTypeIsReportedWithWhatWasExpected() throws Exception {
    JsonObject config = valid();
    config.getJsonObject("server").put("port", "8080");
    assertInvalid(validate(write(config)), "server.port: \"8080\" (expected: integer)");
  }

  @Test
  void aNegativeTimeoutIsReportedAsOutOfRange() throws Exception {
    JsonObject config = valid();
    GatewayHarness.pool(config).put("idleTimeoutMs", -1);
    assertInvalid(validate(write(config)), "upstreams[0].pool.idleTimeoutMs: -1 (expected: > 0)");
  }

  @Test
  void aRouteNamingAMissingUpstreamIsReported() throws Exception {
    JsonObject config = valid();
    config.getJsonArray("routes").add(new JsonObject().put("name", "billing").put("upstream", "billing"));
    assertInvalid(validate(write(config)), "routes[1].upstream: no upstream named \"billing\"");
  }

  @Test
  void duplicateUpstreamNamesAreReported() throws Exception {
    JsonObject config = valid();
    config.getJsonArray("upstreams").add(new JsonObject()
        .put("name", "up").put("endpoints", new JsonArray().add("127.0.0.1:9002")));
    assertInvalid(validate(write(config)), "upstreams[1].name: duplicate upstream name \"up\" (also at upstreams[0])");
  }

  @Test
  void aMalformedEndpointIsReportedWithTheExpectedForm() throws Exception {
    JsonObject config = valid();
    GatewayHarness.upstream(config).put("endpoints", new JsonArray().add("127.0.0.1:9001").add("api.internal"));
    assertInvalid(validate(write(config)), "upstreams[0].endpoints[1]: \"api.internal\" (expected: host:port)");
  }

  @Test
  void invalidJsonIsReportedWithTheFileAndPosition() throws Exception {
    Path config = write("broken.json", "{ \"server\": { \"port\": 8080 },\n  \"upstreams\": [ }\n");
    GatewayProcess.Result result = validate(config);
    assertEquals(2, result.exitCode(), result.toString());
    List<String> lines = result.stderrLines();
    assertEquals(1, lines.size(), result.toString());
    assertTrue(lines.get(0).startsWith(config + ": invalid JSON: "), result.toString());
    assertTrue(lines.get(0).matches(".*\\(line 2, column \\d+\\)$"), result.toString());
  }

  @Test
  void severalProblemsGiveOneLineEach() throws Exception {
    JsonObject config = valid();
    config.getJsonObject("server").put("bogus", true).put("drainTimeoutMs", -5);
    GatewayHarness.upstream(config).put("endpoints", new JsonArray().add("localhost"));
    config.getJsonArray("routes").add(new JsonObject().put("upstream", "billing"));
    assertInvalid(validate(write(config)),
        "server.bogus: unknown key",
        "server.drainTimeoutMs: -5 (expected: > 0)",
        "upstreams[0].endpoints[0]: \"localhost\" (expected: host:port)",
        "routes[1].upstream: no upstream named \"billing\"");
  }

  @Test
  void tlsKeysThatDoNotBelongToTheirCertificatesFailValidationAndTheStartWithTheirPaths() throws Exception {
    TestCertificates.Issued one = TestCertificates.issue(dir, "one.example.test");
    TestCertificates.Issued other = TestCertificates.issue(dir, "other.example.test");
    JsonObject config = valid();
    config.getJsonObject("server").put("tls", new JsonObject().put("enabled", true).put("port", 0)
        .put("certificates", new JsonArray()
            .add(new JsonObject().put("certFile", one.certFile().toString()).put("keyFile", one.keyFile().toString()))
            .add(new JsonObject().put("certFile", one.certFile().toString()).put("keyFile", other.keyFile().toString()))));
    GatewayHarness.upstream(config).put("tls", new JsonObject().put("enabled", true) // a client certificate for mutual TLS
        .put("certFile", other.certFile().toString()).put("keyFile", one.keyFile().toString()));
    Path file = write(config);
    String[] problems = {
        "server.tls.certificates[1].keyFile: does not match the certificate in certFile",
        "upstreams[0].tls.keyFile: does not match the certificate in certFile"};
    assertInvalid(validate(file), problems);

    GatewayProcess.Result started = GatewayProcess.run(RUN_TIMEOUT, Map.of(), "--config", file.toString());
    assertEquals(2, started.exitCode(), started.toString());
    assertEquals(List.of(problems), started.stderrLines(), "checked before anything starts: " + started);
  }

  @Test
  void aConfigFileThatDoesNotExistIsReported() throws Exception {
    Path missing = dir.resolve("nowhere.json");
    assertInvalid(validate(missing), missing + ": cannot read: no such file");
  }

  @Test
  void startingWithAnInvalidConfigExitsTwoWithoutEverBindingItsPort() throws Exception {
    int port = freePort();
    JsonObject config = valid();
    config.getJsonObject("server").put("port", port);
    config.getJsonArray("routes").add(new JsonObject().put("upstream", "billing"));
    Path file = write(config);
    try (GatewayProcess gateway = GatewayProcess.launch(List.of(), List.of("--config", file.toString()), Map.of())) {
      while (gateway.isAlive()) { // poll the port for as long as the process lives
        assertFalse(accepts(port), "keepgate bound port " + port + " with an invalid config\n" + gateway.output());
        Thread.sleep(5);
      }
      int exit = gateway.waitFor(RUN_TIMEOUT);
      assertEquals(2, exit, gateway.output());
      assertEquals(List.of("routes[1].upstream: no upstream named \"billing\""),
          gateway.stderr().lines().toList(), gateway.output());
      assertFalse(accepts(port), "nothing listens on " + port + " after the exit");
    }
  }

  @Test
  void anUnknownArgumentExitsTwoWithUsage() throws Exception {
    GatewayProcess.Result result = GatewayProcess.run(RUN_TIMEOUT, Map.of(), "--validate", "--bogus");
    assertEquals(2, result.exitCode(), result.toString());
    assertEquals("unknown argument: --bogus", result.stderrLines().get(0), result.toString());
    assertTrue(result.stderrLines().stream().anyMatch(line -> line.startsWith("usage: ")), result.toString());
  }

  @Test
  void configWithoutAPathExitsTwo() throws Exception {
    GatewayProcess.Result result = GatewayProcess.run(RUN_TIMEOUT, Map.of(), "--validate", "--config");
    assertEquals(2, result.exitCode(), result.toString());
    assertEquals("--config needs a path", result.stderrLines().get(0), result.toString());
  }

  @Test
  void theKeepgateConfigVariableNamesTheConfig() throws Exception {
    Path good = write(valid());
    GatewayProcess.Result valid = GatewayProcess.run(RUN_TIMEOUT, Map.of("KEEPGATE_CONFIG", good.toString()), "--validate");
    assertEquals(0, valid.exitCode(), valid.toString());
    assertEquals(good + ": valid", valid.stdout().strip(), valid.toString());

    JsonObject config = valid();
    config.put("unknownSection", new JsonObject());
    Path bad = write("bad.json", config.encodePrettily());
    GatewayProcess.Result invalid = GatewayProcess.run(RUN_TIMEOUT, Map.of("KEEPGATE_CONFIG", bad.toString()), "--validate");
    assertInvalid(invalid, "unknownSection: unknown key");
  }

  @Test
  void configArgumentWinsOverTheKeepgateConfigVariable() throws Exception {
    Path good = write(valid());
    Path missing = dir.resolve("missing.json");
    GatewayProcess.Result result = GatewayProcess.run(RUN_TIMEOUT, Map.of("KEEPGATE_CONFIG", missing.toString()),
        "--validate", "--config", good.toString());
    assertEquals(0, result.exitCode(), result.toString());
    assertEquals(good + ": valid", result.stdout().strip(), result.toString());
  }

  @Test
  void theRepositoryDemoConfigIsValid() throws Exception {
    Path demo = Path.of("config", "keepgate.json");
    assertTrue(Files.isRegularFile(demo), "run from the project directory: " + demo.toAbsolutePath());
    GatewayProcess.Result explicit = validate(demo);
    assertEquals(0, explicit.exitCode(), explicit.toString());
    GatewayProcess.Result byDefault = GatewayProcess.run(RUN_TIMEOUT, Map.of(), "--validate");
    assertEquals(0, byDefault.exitCode(), byDefault.toString());
    assertEquals("config/keepgate.json: valid", byDefault.stdout().strip(), "the default config path");
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /** Whether something accepts TCP connections on 127.0.0.1:port. */
  private static boolean accepts(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      return true;
    } catch (ConnectException e) {
      return false;
    } catch (IOException e) {
      return false;
    }
  }
}
