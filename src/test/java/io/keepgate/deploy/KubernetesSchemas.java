package io.keepgate.deploy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Validates manifests against the Kubernetes API's own schemas: types, required fields, enums and
 * formats (quantities, int32), as the npm package kubernetes-models ships them. Runs
 * {@code validate-manifests.mjs} with Node.js from {@code target/deploy-tools/}, where Maven copies
 * {@code src/test/deploy-tools/} and installs its locked packages ({@code npm ci}, in
 * generate-test-resources). Those schemas allow unknown fields: {@link StrictModelReader} adds that.
 */
final class KubernetesSchemas {

  static final Path TOOLS = Project.ROOT.resolve("target/deploy-tools");
  static final String NODE_MISSING = "the deploy checks need Node.js (node and npm on PATH: apt-get install nodejs npm, as .ci/run does)";

  private KubernetesSchemas() {}

  /** One line per problem, "FILE#DOC (KIND NAME) PATH: PROBLEM"; empty when every document validates. */
  static List<String> problems(List<Path> files) {
    List<String> command = new ArrayList<>(List.of("node", script("validate-manifests.mjs").toString()));
    files.forEach(file -> command.add(Project.relative(file)));
    Tool.Result result = Tool.run(Duration.ofSeconds(120), NODE_MISSING, command);
    List<String> lines = result.out().lines().filter(line -> !line.isBlank()).toList();
    if (result.exitCode() == 0 && lines.isEmpty() || result.exitCode() == 1 && !lines.isEmpty()) {
      return lines;
    }
    throw new IllegalStateException(String.join(" ", command) + " exited " + result.exitCode() + ":\n" + result.out() + result.err());
  }

  /** A file of target/deploy-tools/, failing clearly when Maven has not installed them. */
  static Path script(String name) {
    Path script = TOOLS.resolve(name);
    if (!Files.isRegularFile(script) || !Files.isDirectory(TOOLS.resolve("node_modules"))) {
      throw new IllegalStateException(TOOLS + " lacks " + name + " or node_modules: Maven's generate-test-resources"
          + " phase installs them (mvn test does); " + NODE_MISSING);
    }
    return script;
  }
}
