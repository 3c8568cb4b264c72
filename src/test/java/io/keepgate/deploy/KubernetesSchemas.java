package io.keepgate.deploy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Validates manifests against the Kubernetes API's own schemas: types, required fields, enums and
 * formats (quantities, int32), as the npm package kubernetes-models ships them. Runs
 * {@code validate-manifests.mjs} with Node.js from {@code target/deploy-tools/} (see {@link Tool}).
 * Those schemas allow unknown fields: {@link StrictModelReader} adds that.
 */
final class KubernetesSchemas {

  private KubernetesSchemas() {}

  /** One line per problem, "FILE#DOC (KIND NAME) PATH: PROBLEM"; empty when every document validates. */
  static List<String> problems(List<Path> files) {
    List<String> command = new ArrayList<>(List.of("node", Tool.nodeTool("validate-manifests.mjs").toString()));
    files.forEach(file -> command.add(Project.relative(file)));
    Tool.Result result = Tool.run(Duration.ofSeconds(120), Tool.NODE_MISSING, command);
    List<String> lines = result.out().lines().filter(line -> !line.isBlank()).toList();
    if (result.exitCode() == 0 && lines.isEmpty() || result.exitCode() == 1 && !lines.isEmpty()) {
      return lines;
    }
    throw new IllegalStateException(String.join(" ", command) + " exited " + result.exitCode() + ":\n" + result.out() + result.err());
  }
}
