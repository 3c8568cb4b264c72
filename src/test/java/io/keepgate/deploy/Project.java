package io.keepgate.deploy;

import io.keepgate.deploy.Manifests.Document;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** The repository's deployment files, read from the project directory (Maven's basedir). */
final class Project {
  static final Path ROOT = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath().normalize();
  static final Path K8S = ROOT.resolve("k8s");
  static final Path DOCKERFILE = ROOT.resolve("docker/Dockerfile");
  static final Path IMAGE_CONFIG = ROOT.resolve("config/keepgate.json");
  static final Path BAD = ROOT.resolve("src/test/resources/deploy/bad");
  static final String KUSTOMIZATION = "kustomization.yaml";

  private Project() {}

  static String read(Path path) {
    try {
      return Files.readString(path);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The manifest files of k8s/ (every *.yaml and *.yml but the kustomization), sorted. */
  static List<Path> manifestFiles() {
    try (Stream<Path> files = Files.list(K8S)) {
      return files.filter(file -> file.toString().matches(".*\\.ya?ml"))
          .filter(file -> !file.getFileName().toString().equals(KUSTOMIZATION)).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Kustomize.Build k8s;
  private static List<Document> manifests;

  /** k8s/ as {@code kubectl apply -k k8s/} would apply it (see {@link Kustomize}), built once; says how in the test output. */
  static synchronized Kustomize.Build k8s() {
    if (k8s == null) {
      k8s = Kustomize.build(K8S);
      System.out.println("[deploy checks] k8s/: " + k8s.how());
    }
    return k8s;
  }

  /** Every document of k8s/, each read strictly into its model class. */
  static synchronized List<Document> manifests() {
    if (manifests == null) {
      manifests = Manifests.read(k8s().files());
    }
    return manifests;
  }

  /** The path relative to the project directory when it is inside it, as the checks' problem lines show it. */
  static String relative(Path path) {
    Path absolute = path.toAbsolutePath().normalize();
    return absolute.startsWith(ROOT) ? ROOT.relativize(absolute).toString() : absolute.toString();
  }

  static Dockerfile dockerfile() {
    return new Dockerfile(read(DOCKERFILE));
  }

  /** The numeric uid of the final stage's USER, or null. */
  static Long imageUid(Dockerfile dockerfile) {
    Dockerfile.Instruction user = dockerfile.finalStage() == null ? null : dockerfile.finalStage().last("USER");
    String uid = user == null ? "" : user.arguments().split(":")[0];
    return uid.matches("\\d+") ? Long.valueOf(uid) : null;
  }
}
