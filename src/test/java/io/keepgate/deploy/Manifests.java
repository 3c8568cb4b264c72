package io.keepgate.deploy;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Kubernetes manifests as the deploy checks see them: every YAML document of a file (a duplicate
 * key fails), each read strictly into its fabric8 model class ({@link StrictModelReader}) for the
 * typed rules of {@link KeepgateManifestChecks}. The API schemas are checked on the same files by
 * {@link KubernetesSchemas}.
 */
final class Manifests {

  /**
   * One YAML document: where it came from ({@code file#2 (Deployment keepgate)}), its tree, the
   * typed resource (null when the strict read failed) and the strict read's problems.
   */
  record Document(String where, JsonNode tree, HasMetadata resource, List<String> problems) {
    String kind() {
      return tree.path("kind").asText("");
    }

    String name() {
      return tree.path("metadata").path("name").asText("");
    }

    String apiVersion() {
      return tree.path("apiVersion").asText("");
    }
  }

  private static final YAMLMapper YAML =
      new YAMLMapper(YAMLFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build());
  private static final StrictModelReader READER = new StrictModelReader();

  private Manifests() {}

  /** Every document of the files, in order. */
  static List<Document> read(List<Path> files) {
    List<Document> documents = new ArrayList<>();
    files.forEach(file -> documents.addAll(read(file)));
    return documents;
  }

  /** Every document of a file; a file that is not YAML gives one document with the error. */
  static List<Document> read(Path file) {
    String name = Project.relative(file);
    List<JsonNode> trees;
    try {
      trees = YAML.readerFor(JsonNode.class).<JsonNode>readValues(Files.readString(file)).readAll();
    } catch (UncheckedIOException | IOException e) {
      String message = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
      return List.of(new Document(name, YAML.createObjectNode(), null, List.of(name + ": not valid YAML: " + message)));
    }
    List<Document> documents = new ArrayList<>();
    for (int i = 0; i < trees.size(); i++) {
      JsonNode tree = trees.get(i);
      if (tree != null && !tree.isMissingNode() && !tree.isNull()) { // null: an empty document, e.g. after a trailing ---
        documents.add(document(tree, trees.size() > 1 ? name + "#" + (i + 1) : name));
      }
    }
    return documents;
  }

  /** The strict read's problems of every document. */
  static List<String> problems(List<Document> documents) {
    return documents.stream().flatMap(document -> document.problems().stream()).toList();
  }

  private static Document document(JsonNode tree, String source) {
    String where = source + " (" + tree.path("kind").asText("?") + " " + tree.path("metadata").path("name").asText("?") + ")";
    List<String> problems = new ArrayList<>();
    Class<? extends HasMetadata> model = StrictModelReader.modelClass(tree.path("apiVersion").asText(""), tree.path("kind").asText(""));
    HasMetadata resource = null;
    if (!tree.isObject()) {
      problems.add("(expected: a Kubernetes object)");
    } else if (model == null) {
      problems.add("apiVersion: \"" + tree.path("apiVersion").asText("") + "\" kind \"" + tree.path("kind").asText("")
          + "\" has no model class in fabric8's kubernetes-model");
    } else {
      try {
        resource = READER.read(tree, model, problems);
      } catch (IOException e) {
        problems.add(StrictModelReader.problem(e));
      }
    }
    List<String> lines = problems.stream().map(problem -> where + " " + problem).toList();
    return new Document(where, tree, lines.isEmpty() ? resource : null, lines);
  }
}
