package io.keepgate.deploy;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.DeserializationConfig;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.BeanDeserializerBuilder;
import com.fasterxml.jackson.databind.deser.BeanDeserializerModifier;
import com.fasterxml.jackson.databind.deser.DeserializationProblemHandler;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.stream.Collectors;

/**
 * Reads a manifest into fabric8's Kubernetes model (a compile dependency, for discovery) with
 * Jackson 2, strictly: a key the model class has no property for fails, and so does a scalar of
 * the wrong type ({@code "3"} where the API wants an integer is not coerced). This is the
 * strictness the Kubernetes API schemas of {@link KubernetesSchemas} lack: they allow unknown
 * fields, so a typo such as {@code readinesProbe} would pass them and the API server's default
 * would silently apply.
 *
 * <p>fabric8's classes collect unknown keys in an {@code additionalProperties} map (a
 * {@code @JsonAnySetter}), which makes {@code FAIL_ON_UNKNOWN_PROPERTIES} a no-op; that any-setter
 * is removed here, so unknown keys reach Jackson's unknown-property handling. A problem handler
 * records each of them (and skips it) so that one read names every unknown field;
 * {@code FAIL_ON_UNKNOWN_PROPERTIES} stays on for a read without that handler.
 */
final class StrictModelReader {

  /** fabric8's model classes by "apiVersion/kind" (apps/v1/Deployment, v1/Service), from its service files. */
  private static final Map<String, Class<? extends HasMetadata>> MODELS = ServiceLoader.load(KubernetesResource.class)
      .stream().map(ServiceLoader.Provider::type)
      .filter(HasMetadata.class::isAssignableFrom).map(type -> type.asSubclass(HasMetadata.class))
      .collect(Collectors.toMap(type -> HasMetadata.getApiVersion(type) + "/" + HasMetadata.getKind(type),
          type -> type, (first, second) -> first));

  private final ObjectMapper strict = JsonMapper.builder()
      .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
      .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
      .addModule(new SimpleModule("no-any-setter").setDeserializerModifier(new BeanDeserializerModifier() {
        @Override
        public BeanDeserializerBuilder updateBuilder(
            DeserializationConfig config, BeanDescription description, BeanDeserializerBuilder builder) {
          if (description.getBeanClass().getName().startsWith("io.fabric8.")) {
            builder.setAnySetter(null); // unknown keys fail instead of landing in additionalProperties
          }
          return builder;
        }
      }))
      .build();

  /** fabric8's model class for an apiVersion and kind, or null when it has none. */
  static Class<? extends HasMetadata> modelClass(String apiVersion, String kind) {
    return MODELS.get(apiVersion + "/" + kind);
  }

  /**
   * The tree as the model class. Every unknown field is added to {@code problems}, with its path,
   * and skipped, so that one read reports them all; a scalar of the wrong type throws.
   */
  <T> T read(JsonNode tree, Class<T> type, List<String> problems) throws IOException {
    return strict.readerFor(type).withHandler(new DeserializationProblemHandler() {
      @Override
      public boolean handleUnknownProperty(DeserializationContext context, JsonParser parser,
          JsonDeserializer<?> deserializer, Object beanOrClass, String property) throws IOException {
        Class<?> model = beanOrClass instanceof Class<?> c ? c : beanOrClass.getClass();
        problems.add(path(parser) + ": unknown field (" + model.getSimpleName() + " has no such field)");
        parser.skipChildren();
        return true;
      }
    }).readValue(tree);
  }

  /** A failed read as one problem: the field's path and what is wrong with it. */
  static String problem(IOException e) {
    StringBuilder path = new StringBuilder();
    if (e instanceof JsonMappingException mapping) {
      for (JsonMappingException.Reference reference : mapping.getPath()) {
        append(path, reference.getFieldName(), reference.getIndex());
      }
    }
    String what = e.getMessage().lines().findFirst().orElse(e.toString())
        .replaceAll(" \\(but might if coercion using `CoercionConfig` was enabled\\)", "");
    return (path.length() == 0 ? "" : path + ": ") + what;
  }

  /** The path of the field the parser is at: its name in the innermost object, and the names and indices above. */
  private static String path(JsonParser parser) {
    JsonStreamContext context = parser.getParsingContext();
    if (parser.currentToken() == JsonToken.START_OBJECT || parser.currentToken() == JsonToken.START_ARRAY) {
      context = context.getParent(); // the parser is already inside the unknown field's value
    }
    List<JsonStreamContext> chain = new ArrayList<>();
    for (JsonStreamContext c = context; c != null && !c.inRoot(); c = c.getParent()) {
      chain.add(0, c);
    }
    StringBuilder path = new StringBuilder();
    chain.forEach(c -> append(path, c.inObject() ? c.getCurrentName() : null, c.getCurrentIndex()));
    return path.toString();
  }

  private static void append(StringBuilder path, String field, int index) {
    if (field == null) {
      path.append('[').append(index).append(']');
    } else if (field.matches("[A-Za-z0-9_-]+")) {
      path.append(path.length() == 0 ? "" : ".").append(field);
    } else {
      path.append("[\"").append(field).append("\"]");
    }
  }
}
