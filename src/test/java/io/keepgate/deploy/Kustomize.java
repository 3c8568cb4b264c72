package io.keepgate.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code kubectl apply -k} would apply, as files to check. With kubectl on PATH that is
 * {@code kubectl kustomize DIR} (offline, no cluster), written to {@code target/deploy/}; without
 * it (kubectl is no Debian package of a current version, so a machine may lack it) the files the
 * kustomization lists, as they are, without kustomize's transformations (the images override).
 */
final class Kustomize {

  /** The files to check and how they were made, to say in the test output. */
  record Build(List<Path> files, String how) {}

  private Kustomize() {}

  static Build build(Path directory) {
    String dir = Project.relative(directory) + "/";
    if (!Tool.onPath("kubectl")) {
      return new Build(listed(directory), "kubectl is not on PATH: checking the files " + dir + Project.KUSTOMIZATION
          + " lists, without kustomize's transformations");
    }
    List<String> command = List.of("kubectl", "kustomize", dir);
    Tool.Result result = Tool.run(Duration.ofSeconds(60), "kubectl", command);
    if (result.exitCode() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed:\n" + result.err() + result.out());
    }
    try {
      Path output = Project.ROOT.resolve("target/deploy").resolve(directory.getFileName() + "-kustomized.yaml");
      Files.createDirectories(output.getParent());
      Files.writeString(output, result.out());
      return new Build(List.of(output), "checking the output of " + String.join(" ", command) + " (" + Project.relative(output) + ")");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The resources of DIR/kustomization.yaml, as paths. */
  static List<Path> listed(Path directory) {
    try {
      JsonNode kustomization = new YAMLMapper().readTree(directory.resolve(Project.KUSTOMIZATION).toFile());
      List<Path> files = new ArrayList<>();
      kustomization.path("resources").forEach(resource -> files.add(directory.resolve(resource.asText())));
      return files;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
