package io.keepgate.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Lints a Dockerfile with dockerfile-utils, the parser and rules of the Docker language server
 * (what the Docker builder would refuse: instructions before the first FROM, unknown instructions
 * and flags, wrong argument counts, a HEALTHCHECK with no CMD, bad ports and signals; and warnings
 * such as several CMDs or a relative WORKDIR). Runs its command line with Node.js from
 * {@code target/deploy-tools/} (see {@link Tool}). Every diagnostic, warning or error, is a problem.
 */
final class DockerfileLint {

  private DockerfileLint() {}

  /** One line per diagnostic, "dockerfile-utils: line N: SEVERITY: MESSAGE"; empty when the file is clean. */
  static List<String> problems(Path dockerfile) {
    Path cli = Tool.nodeTool("node_modules/dockerfile-utils/bin/dockerfile-utils");
    List<String> command = List.of("node", cli.toString(), "lint", "--json", Project.relative(dockerfile));
    Tool.Result result = Tool.run(Duration.ofSeconds(60), Tool.NODE_MISSING, command);
    JsonNode diagnostics;
    try {
      diagnostics = new ObjectMapper().readTree(result.out());
    } catch (IOException e) {
      diagnostics = null;
    }
    if (diagnostics == null || !diagnostics.isArray() || result.exitCode() > 1) { // 1: an error among the diagnostics
      throw new IllegalStateException(String.join(" ", command) + " exited " + result.exitCode() + ":\n" + result.out() + result.err());
    }
    List<String> problems = new ArrayList<>();
    for (JsonNode diagnostic : diagnostics) {
      problems.add("dockerfile-utils: line " + (diagnostic.path("range").path("start").path("line").asInt() + 1) + ": "
          + diagnostic.path("severity").asText() + ": " + diagnostic.path("message").asText());
    }
    return problems;
  }
}
