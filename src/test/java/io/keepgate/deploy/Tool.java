package io.keepgate.deploy;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * An external program the deploy checks run (node, kubectl), with a bounded wait, and the Node.js
 * tools they run: {@code src/test/deploy-tools/}, which Maven copies to {@code target/deploy-tools/}
 * and installs there with {@code npm ci} (its package-lock.json's exact versions) in the
 * generate-test-resources phase.
 */
final class Tool {

  static final Path NODE_TOOLS = Project.ROOT.resolve("target/deploy-tools");
  static final String NODE_MISSING = "the deploy checks need Node.js (node and npm on PATH: apt-get install nodejs npm, as .ci/run does)";

  /** What a run printed and how it exited. */
  record Result(int exitCode, String out, String err) {}

  private Tool() {}

  /** Whether an executable of that name is on PATH. */
  static boolean onPath(String program) {
    String path = System.getenv().getOrDefault("PATH", "");
    return !path.isEmpty() && List.of(path.split(File.pathSeparator)).stream()
        .anyMatch(directory -> Files.isExecutable(Path.of(directory, program)));
  }

  /** A file of target/deploy-tools/, failing clearly when Maven has not installed them. */
  static Path nodeTool(String name) {
    Path file = NODE_TOOLS.resolve(name);
    if (!Files.isRegularFile(file) || !Files.isDirectory(NODE_TOOLS.resolve("node_modules"))) {
      throw new IllegalStateException(NODE_TOOLS + " lacks " + name + " or node_modules: Maven's generate-test-resources"
          + " phase installs them (mvn test does); " + NODE_MISSING);
    }
    return file;
  }

  /**
   * Runs a command in the project directory, standard input closed, and waits at most
   * {@code timeout} for it; a program that cannot be started fails with {@code missing} as the
   * hint, one that does not finish in time is killed and fails.
   */
  static Result run(Duration timeout, String missing, List<String> command) {
    try {
      Path out = Files.createTempFile("keepgate-tool", ".out");
      Path err = Files.createTempFile("keepgate-tool", ".err");
      try {
        Process process;
        try {
          process = new ProcessBuilder(command).directory(Project.ROOT.toFile())
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
              .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        } catch (IOException e) {
          throw new IllegalStateException(command.get(0) + " cannot be run (" + e.getMessage() + "): " + missing, e);
        }
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
          throw new IllegalStateException(String.join(" ", command) + " did not finish within " + timeout);
        }
        return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
            Files.readString(err, StandardCharsets.UTF_8));
      } finally {
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + command, e);
    }
  }
}
