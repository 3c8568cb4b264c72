package io.keepgate.testing;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * keepgate as a user runs it: {@code java [jvmArgs] -jar keepgate.jar ARGS} in a child process,
 * stdout and stderr written to files (so the child never blocks on a full pipe), with its exit
 * code, its output, and POSIX signals. The jar is the one failsafe names in the system property
 * {@code keepgate.jar} (default {@code target/keepgate.jar}).
 *
 * <p>{@link #start} writes a config file and waits until the node serves: it reads the ports from
 * the {@code keepgate serving proxy=HOST:PORT admin=HOST:PORT} line on stderr (so configs may use
 * port 0), then polls {@code GET /health/ready} on the admin port until 200. {@link #launch} and
 * {@link #run} are for runs that are not expected to serve ({@code --validate}, bad configs).
 * {@link #close()} always kills the process. Test thread only.
 */
public final class GatewayProcess implements AutoCloseable {
  /** The signals a test can send; TERM and INT are the graceful ones. */
  public enum Signal { TERM, INT, KILL, STOP, CONT }

  /** The outcome of a run to completion. */
  public record Result(int exitCode, String stdout, String stderr) {
    /** The non-empty lines of stderr. */
    public List<String> stderrLines() {
      return stderr.lines().filter(line -> !line.isBlank()).toList();
    }

    @Override
    public String toString() {
      return "exit " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
    }
  }

  private static final Pattern SERVING = Pattern.compile("keepgate serving proxy=(\\S+):(\\d+) admin=(\\S+):(\\d+)");
  private static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(30);

  private final Process process;
  private final Path dir;
  private final Path stdoutFile;
  private final Path stderrFile;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final String adminHost;
  private int proxyPort = -1;
  private int adminPort = -1;

  private GatewayProcess(Process process, Path dir, String adminHost) {
    this.process = process;
    this.dir = dir;
    this.adminHost = adminHost;
    this.stdoutFile = dir.resolve("stdout.log");
    this.stderrFile = dir.resolve("stderr.log");
  }

  /** The packaged runnable jar under test. */
  public static Path jar() {
    Path jar = Path.of(System.getProperty("keepgate.jar", "target/keepgate.jar")).toAbsolutePath();
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " does not exist: run `mvn -DskipTests package` first");
    }
    return jar;
  }

  /**
   * Writes {@code config} to a file, runs {@code java [jvmArgs] -jar keepgate.jar --config FILE}
   * and waits until it serves (readiness 200).
   */
  public static GatewayProcess start(JsonObject config, String... jvmArgs) throws IOException {
    return startWith(List.of(), "127.0.0.1", config, withLeakDetection(List.of(jvmArgs)));
  }

  /**
   * As {@link #start(JsonObject, String...)} with no JVM flag at all, not even the leak detector's
   * level: {@code java -jar keepgate.jar} as many users start it, so Netty's default (sampling)
   * leak detection, whose reports still fail the test.
   */
  public static GatewayProcess startWithoutJvmFlags(JsonObject config) throws IOException {
    return startWith(List.of(), "127.0.0.1", config, List.of());
  }

  /**
   * As {@link #start(JsonObject, String...)}, inside network namespace {@code namespace}
   * ({@code ip netns exec}, which keeps the process id, so signals reach the JVM), with the
   * proxy and admin listeners bound to {@code address} there.
   */
  public static GatewayProcess startInNamespace(String namespace, String address, JsonObject config,
      String... jvmArgs) throws IOException {
    JsonObject bound = config.copy();
    bound.getJsonObject("server").put("host", address);
    bound.put("admin", new JsonObject().put("host", address).put("port", 0));
    return startWith(List.of("ip", "netns", "exec", namespace), address, bound, withLeakDetection(List.of(jvmArgs)));
  }

  private static GatewayProcess startWith(List<String> prefix, String adminHost, JsonObject config, List<String> jvmArgs)
      throws IOException {
    Path dir = Files.createTempDirectory("keepgate-process");
    Path configFile = dir.resolve("keepgate.json");
    Files.writeString(configFile, config.encodePrettily());
    GatewayProcess gateway = launch(dir, prefix, adminHost, jvmArgs,
        List.of("--config", configFile.toString()), Map.of());
    try {
      return gateway.awaitReady(DEFAULT_START_TIMEOUT);
    } catch (RuntimeException | Error e) {
      gateway.close();
      throw e;
    }
  }

  /**
   * Starts {@code java -jar keepgate.jar args} without waiting for anything. The child inherits
   * this JVM's environment minus {@code KEEPGATE_CONFIG}, plus {@code env}; its working directory
   * is this JVM's (the project directory under Maven, where {@code config/keepgate.json} lives).
   */
  public static GatewayProcess launch(List<String> jvmArgs, List<String> args, Map<String, String> env)
      throws IOException {
    return launch(Files.createTempDirectory("keepgate-process"), jvmArgs, args, env);
  }

  /**
   * As {@link #start(JsonObject, String...)}, with the process limited to {@code openFiles} file
   * descriptors (soft and hard, set by util-linux's {@code prlimit}).
   */
  public static GatewayProcess startWithOpenFileLimit(JsonObject config, int openFiles, String... jvmArgs)
      throws IOException {
    Path dir = Files.createTempDirectory("keepgate-process");
    Path configFile = dir.resolve("keepgate.json");
    Files.writeString(configFile, config.encodePrettily());
    GatewayProcess gateway = launch(dir, List.of("prlimit", "--nofile=" + openFiles + ":" + openFiles), "127.0.0.1",
        withLeakDetection(List.of(jvmArgs)), List.of("--config", configFile.toString()), Map.of());
    try {
      return gateway.awaitReady(DEFAULT_START_TIMEOUT);
    } catch (RuntimeException | Error e) {
      gateway.close();
      throw e;
    }
  }

  private static GatewayProcess launch(Path dir, List<String> jvmArgs, List<String> args, Map<String, String> env)
      throws IOException {
    return launch(dir, List.of(), "127.0.0.1", withLeakDetection(jvmArgs), args, env);
  }

  /** Netty's leak detector at paranoid before {@code jvmArgs}: a LEAK report fails the test (see close()). */
  private static List<String> withLeakDetection(List<String> jvmArgs) {
    List<String> all = new ArrayList<>(jvmArgs.size() + 1);
    all.add("-Dio.netty.leakDetection.level=paranoid");
    all.addAll(jvmArgs);
    return all;
  }

  private static GatewayProcess launch(Path dir, List<String> prefix, String adminHost, List<String> jvmArgs,
      List<String> args, Map<String, String> env) throws IOException {
    List<String> command = new ArrayList<>(prefix);
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmArgs);
    command.add("-jar");
    command.add(jar().toString());
    command.addAll(args);
    ProcessBuilder builder = new ProcessBuilder(command)
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .redirectOutput(dir.resolve("stdout.log").toFile())
        .redirectError(dir.resolve("stderr.log").toFile());
    builder.environment().remove("KEEPGATE_CONFIG");
    builder.environment().putAll(env);
    return new GatewayProcess(builder.start(), dir, adminHost);
  }

  /** Runs {@code java -jar keepgate.jar args} to completion (killed and failed after {@code timeout}). */
  public static Result run(Duration timeout, Map<String, String> env, String... args) throws IOException {
    try (GatewayProcess process = launch(List.of(), List.of(args), env)) {
      int exit = process.waitFor(timeout);
      return new Result(exit, process.stdout(), process.stderr());
    }
  }

  /**
   * Waits for the {@code keepgate serving} line, then for readiness 200; fails early, with the
   * child's output, if it exits first.
   */
  public GatewayProcess awaitReady(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (proxyPort < 0) {
      Matcher serving = SERVING.matcher(stderr());
      if (serving.find()) {
        proxyPort = Integer.parseInt(serving.group(2));
        adminPort = Integer.parseInt(serving.group(4));
        break;
      }
      checkStillStarting(deadline, "the 'keepgate serving' line");
      pause(20);
    }
    while (readyStatus() != 200) {
      checkStillStarting(deadline, "GET /health/ready = 200 on admin port " + adminPort);
      pause(20);
    }
    return this;
  }

  private void checkStillStarting(long deadline, String what) {
    if (!process.isAlive()) {
      throw new AssertionError("keepgate exited with " + process.exitValue() + " before " + what + "\n" + output());
    }
    if (System.nanoTime() > deadline) {
      throw new AssertionError("keepgate did not show " + what + " in time\n" + output());
    }
  }

  /** The address the proxy and admin listeners are reached on: 127.0.0.1, or the namespace address. */
  public String host() {
    return adminHost;
  }

  public int proxyPort() {
    return proxyPort;
  }

  public int adminPort() {
    return adminPort;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** Sends a POSIX signal with {@code kill -s NAME pid}. */
  public void signal(Signal signal) {
    try {
      Process kill = new ProcessBuilder("kill", "-s", signal.name(), Long.toString(process.pid()))
          .redirectErrorStream(true).start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new AssertionError("kill -s " + signal + " " + process.pid() + " failed: "
            + new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new AssertionError("cannot run kill", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted sending " + signal, e);
    }
  }

  /** Waits for the process to exit and returns its exit code; fails (leaving it to close()) after {@code timeout}. */
  public int waitFor(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError("keepgate (pid " + process.pid() + ") still running after " + timeout.toMillis()
            + " ms\n" + output());
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted waiting for keepgate to exit", e);
    }
  }

  /** GET on the admin listener. */
  public HttpResponse<String> admin(String path) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create("http://" + adminHost + ":" + adminPort + path))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** POST on the admin listener (e.g. {@code /admin/reload}). */
  public HttpResponse<String> adminPost(String path) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create("http://" + adminHost + ":" + adminPort + path))
        .POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Replaces the config file the process was started with by {@link #start}: it applies it on its
   * next poll of the file, or at once on {@code POST /admin/reload}.
   */
  public void rewriteConfig(JsonObject config) throws IOException {
    Files.writeString(dir.resolve("keepgate.json"), config.encodePrettily());
  }

  /** The sum of a Prometheus sample over the label fragments given, from {@code /metrics}; 0 when absent. */
  public double metric(String name, String... labelFragments) {
    try {
      return PrometheusText.sum(admin("/metrics").body(), name, labelFragments);
    } catch (IOException e) {
      throw new AssertionError(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** The status of {@code GET /health/ready}, or -1 when the admin port does not answer (not bound, or closed). */
  public int readyStatus() {
    if (adminPort < 0) {
      return -1;
    }
    try {
      return admin("/health/ready").statusCode();
    } catch (ConnectException e) {
      return -1;
    } catch (IOException e) {
      return -1; // reset or closed mid-exchange: the listener is going away
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  public String stdout() {
    return read(stdoutFile);
  }

  public String stderr() {
    return read(stderrFile);
  }

  /** stdout and stderr, for failure messages. */
  public String output() {
    return "--- keepgate stdout\n" + tail(stdout()) + "--- keepgate stderr\n" + tail(stderr());
  }

  private static String tail(String text) {
    return text.length() <= 8000 ? text : "...\n" + text.substring(text.length() - 8000);
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return "";
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis); // polling interval of a bounded wait
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /**
   * Kills the process (SIGKILL if it is still running), waits for it, and deletes its files; fails
   * if Netty's leak detector reported a leaked buffer in its output.
   */
  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    boolean leaked = (stdout() + stderr()).contains("LEAK:");
    String output = leaked ? output() : "";
    deleteFiles();
    if (leaked) {
      throw new AssertionError("Netty reported a leaked buffer in the gateway process:\n" + output);
    }
  }

  private void deleteFiles() {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    } catch (IOException e) {
      // best effort: a temp directory
    }
  }
}
