package io.keepgate.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.Draft;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.JsonSchemaOptions;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.Validator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code config/keepgate.schema.json} is what editors complete and check configs with; the loader
 * is what runs them. This test proves they agree: every key the loader writes (with its default) is
 * in the schema with that default and no other key is; every integer's range, every type and every
 * enumeration the schema states is what the loader accepts and refuses, at the same JSON path; the
 * example configs name the schema and pass a real JSON Schema validator (Vert.x's); and the README's
 * key tables name exactly the schema's keys.
 */
class ConfigSchemaTest {
  private static final Path ROOT = Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
  private static final Path SCHEMA = ROOT.resolve("config/keepgate.schema.json");

  /** One upstream, one route: everything else at its default. */
  private static final String MINIMAL = "{\"upstreams\":[{\"name\":\"api\",\"endpoints\":[\"127.0.0.1:9001\"]}],"
      + "\"routes\":[{\"upstream\":\"api\"}]}";
  /** Configs whose written form holds the keys the minimal one leaves out. */
  private static final Map<String, String> VARIANTS = Map.of(
      "tls", "{\"server\":{\"tls\":{\"enabled\":true,\"certificates\":[{\"certFile\":\"/etc/t.crt\",\"keyFile\":\"/etc/t.key\"}]}},"
          + "\"upstreams\":[{\"name\":\"api\",\"endpoints\":[\"127.0.0.1:9001\"]}],\"routes\":[{\"upstream\":\"api\"}]}",
      "dns", "{\"upstreams\":[{\"name\":\"api\",\"protocol\":\"h2c\",\"discovery\":{\"dns\":{\"name\":\"api.test\",\"port\":80}}}],"
          + "\"routes\":[{\"upstream\":\"api\",\"streamIdleTimeoutMs\":0}]}",
      "kubernetes", "{\"upstreams\":[{\"name\":\"api\",\"discovery\":{\"kubernetes\":{\"service\":\"api\",\"port\":\"http\"}}}],"
          + "\"routes\":[{\"upstream\":\"api\"}]}");

  private static JsonObject schema() throws IOException {
    return new JsonObject(Files.readString(SCHEMA));
  }

  /** Every property of the schema, by path (array items under their array's name), with its schema. */
  private static Map<List<String>, JsonObject> properties(JsonObject schema) {
    Map<List<String>, JsonObject> found = new LinkedHashMap<>();
    walk(schema, new ArrayList<>(), found);
    return found;
  }

  private static void walk(JsonObject schema, List<String> path, Map<List<String>, JsonObject> found) {
    JsonObject object = "array".equals(schema.getValue("type")) ? schema.getJsonObject("items") : schema;
    if (object == null || !"object".equals(object.getValue("type"))) {
      return;
    }
    object.getJsonObject("properties").forEach(entry -> {
      List<String> child = new ArrayList<>(path);
      child.add(entry.getKey());
      found.put(child, (JsonObject) entry.getValue());
      walk((JsonObject) entry.getValue(), child, found);
    });
  }

  /** The value at {@code path} of a written config (arrays: their first element), or null. */
  private static Object at(JsonObject json, List<String> path) {
    Object node = json;
    for (String key : path) {
      if (node instanceof JsonArray array) {
        node = array.isEmpty() ? null : array.getValue(0);
      }
      if (!(node instanceof JsonObject object) || !object.containsKey(key)) {
        return null;
      }
      node = object.getValue(key);
    }
    return node;
  }

  /** The written form of the minimal config, then of the variants (their files need not exist here). */
  private static List<JsonObject> written() throws ConfigException {
    List<JsonObject> configs = new ArrayList<>(List.of(ConfigLoader.toJson(ConfigLoader.parse(MINIMAL))));
    for (String variant : VARIANTS.values()) {
      configs.add(ConfigLoader.toJson(ConfigLoader.parseForAnotherHost(variant)));
    }
    return configs;
  }

  @Test
  void theLoaderWritesExactlyTheSchemasKeysWithTheSchemasDefaults() throws Exception {
    Map<List<String>, JsonObject> properties = properties(schema());
    Set<String> writtenPaths = new TreeSet<>();
    for (JsonObject config : written()) {
      collect(config, new ArrayList<>(), writtenPaths);
    }
    Set<String> schemaPaths = new TreeSet<>();
    properties.keySet().forEach(path -> schemaPaths.add(String.join(".", path)));
    schemaPaths.remove("$schema"); // the editor's pointer: accepted, never written
    assertEquals(schemaPaths, writtenPaths, "keys in the schema vs keys the loader writes");

    List<String> disagreements = new ArrayList<>();
    properties.forEach((path, property) -> {
      if (!property.containsKey("default")) {
        return;
      }
      Object written = null;
      try {
        for (JsonObject config : written()) {
          written = written != null ? written : at(config, path);
        }
      } catch (ConfigException e) {
        throw new AssertionError(e);
      }
      if (!same(property.getValue("default"), written)) {
        disagreements.add(String.join(".", path) + ": schema " + property.getValue("default") + ", loader " + written);
      }
    });
    assertEquals(List.of(), disagreements);
    long defaults = properties.values().stream().filter(p -> p.containsKey("default")).count();
    assertTrue(defaults >= 60, "defaults stated: " + defaults);
  }

  /** Equal as JSON values: numbers by value (the schema reads 30000 as an int, the loader writes a long). */
  private static boolean same(Object schema, Object written) {
    if (schema instanceof Number a && written instanceof Number b) {
      return a.doubleValue() == b.doubleValue();
    }
    return schema.equals(written);
  }

  private static void collect(Object node, List<String> path, Set<String> paths) {
    if (node instanceof JsonArray array) {
      for (Object item : array) {
        if (item instanceof JsonObject) {
          collect(item, path, paths);
        }
      }
    } else if (node instanceof JsonObject object) {
      object.forEach(entry -> {
        List<String> child = new ArrayList<>(path);
        child.add(entry.getKey());
        paths.add(String.join(".", child));
        collect(entry.getValue(), child, paths);
      });
    }
  }

  @Test
  void theSchemasRangesTypesAndEnumerationsAreWhatTheLoaderAcceptsAndRefuses() throws Exception {
    List<String> disagreements = new ArrayList<>();
    int checks = 0;
    for (Map.Entry<List<String>, JsonObject> entry : properties(schema()).entrySet()) {
      List<String> path = entry.getKey();
      JsonObject property = entry.getValue();
      Object type = property.getValue("type");
      if (path.get(0).equals("$schema") || path.contains("certificates") || type instanceof JsonArray) {
        continue; // the pointer; certificate files must exist; a key of two types (a port by name or number)
      }
      String where = jsonPath(path);
      if ("integer".equals(type)) {
        long min = property.getLong("minimum");
        checks += expect(disagreements, path, min - 1, false, where);
        checks += expect(disagreements, path, min, true, where);
        if (property.containsKey("maximum")) {
          checks += expect(disagreements, path, property.getLong("maximum") + 1, false, where);
          checks += expect(disagreements, path, property.getLong("maximum"), true, where);
        }
        checks += expect(disagreements, path, "1", false, where);
      } else if ("boolean".equals(type)) {
        checks += expect(disagreements, path, "true", false, where);
      } else if ("string".equals(type)) {
        checks += expect(disagreements, path, 5, false, where);
        if (property.containsKey("enum")) {
          for (Object value : property.getJsonArray("enum")) {
            checks += expect(disagreements, path, value, true, where);
          }
          checks += expect(disagreements, path, "not-one-of-them", false, where);
        }
      } else if ("array".equals(type) || "object".equals(type)) {
        checks += expect(disagreements, path, 5, false, where);
      }
    }
    assertEquals(List.of(), disagreements);
    assertTrue(checks >= 200, "checks made: " + checks);
  }

  /** Sets {@code value} at {@code path} of the config that holds that key; records a disagreement with {@code accepted}. */
  private static int expect(List<String> disagreements, List<String> path, Object value, boolean accepted, String where) {
    JsonObject config = new JsonObject(base(path));
    put(config, path, value);
    List<String> problems = List.of();
    try {
      ConfigLoader.parse(config.encode());
    } catch (ConfigException e) {
      problems = e.problems();
    }
    boolean refused = problems.stream().anyMatch(problem -> problem.startsWith(where + ":") || problem.startsWith(where + "["));
    if (refused == accepted) {
      disagreements.add(where + " = " + value + ": the schema " + (accepted ? "accepts" : "refuses") + " it, the loader "
          + (refused ? "refuses: " + problems : "accepts"));
    }
    return 1;
  }

  private static String base(List<String> path) {
    if (path.size() > 2 && path.get(1).equals("discovery")) {
      return VARIANTS.get(path.get(2).equals("dns") ? "dns" : "kubernetes");
    }
    if (path.size() > 1 && (path.get(1).equals("http2Ping") || path.get(1).equals("discovery"))) {
      return VARIANTS.get("dns"); // an HTTP/2 upstream (its PING), with a discovery object
    }
    return MINIMAL;
  }

  /** Sets {@code value} at {@code path}, making objects on the way; an array key means its first element. */
  private static void put(JsonObject config, List<String> path, Object value) {
    JsonObject object = config;
    for (int i = 0; i < path.size() - 1; i++) {
      String key = path.get(i);
      Object next = object.getValue(key);
      if (next instanceof JsonArray array) {
        next = array.getValue(0);
      } else if (next == null) {
        next = new JsonObject();
        object.put(key, next);
      }
      object = (JsonObject) next;
    }
    object.put(path.get(path.size() - 1), value);
  }

  /** The loader's way of naming a key: {@code upstreams[0].pool.idleTimeoutMs}. */
  private static String jsonPath(List<String> path) {
    StringBuilder where = new StringBuilder();
    for (int i = 0; i < path.size(); i++) {
      String key = path.get(i);
      where.append(i == 0 ? "" : ".").append(key);
      if ((key.equals("upstreams") || key.equals("routes")) && i < path.size() - 1) {
        where.append("[0]");
      }
    }
    return where.toString();
  }

  @Test
  void theExampleConfigsNameTheSchemaAndPassAJsonSchemaValidator() throws Exception {
    Validator validator = Validator.create(JsonSchema.of(schema()),
        new JsonSchemaOptions().setDraft(Draft.DRAFT202012).setBaseUri("https://keepgate.io/"));
    JsonObject example = new JsonObject(Files.readString(ROOT.resolve("config/keepgate.json")));
    assertEquals("keepgate.schema.json", example.getString("$schema"));
    OutputUnit result = validator.validate(example);
    assertTrue(result.getValid(), String.valueOf(result.getErrors()));
    ConfigLoader.parse(example.encode()); // the loader takes the pointer too

    for (String config : List.of(MINIMAL, VARIANTS.get("dns"), VARIANTS.get("kubernetes"), VARIANTS.get("tls"))) {
      OutputUnit written = validator.validate(new JsonObject(config));
      assertTrue(written.getValid(), config + ": " + written.getErrors());
    }
    JsonObject typo = new JsonObject(MINIMAL);
    typo.getJsonArray("upstreams").getJsonObject(0).put("pool", new JsonObject().put("maxConnection", 8));
    assertFalse(validator.validate(typo).getValid(), "an unknown key is flagged, as the loader refuses it");
  }

  @Test
  void theReadmesKeyTablesNameEveryKeyOfTheSchemaAndNoOther() throws Exception {
    String readme = Files.readString(ROOT.resolve("README.md"));
    String configuration = readme.substring(readme.indexOf("\n## Configuration"), readme.indexOf("\n## Running a cluster"));
    Set<String> documented = new TreeSet<>();
    Matcher row = Pattern.compile("(?m)^\\| ((?:`[^`]+`(?:, )?)+) \\|").matcher(configuration);
    while (row.find()) {
      Matcher key = Pattern.compile("`([^`]+)`").matcher(row.group(1));
      while (key.find()) {
        documented.add(key.group(1));
      }
    }
    Set<String> names = new TreeSet<>();
    Set<String> leaves = new TreeSet<>();
    properties(schema()).forEach((path, property) -> {
      names.add(path.get(path.size() - 1));
      boolean objects = "object".equals(property.getValue("type"))
          || property.containsKey("items") && "object".equals(property.getJsonObject("items").getValue("type"));
      if (!objects) {
        leaves.add(path.get(path.size() - 1)); // objects (and arrays of them) are headings; their keys are rows
      }
    });
    leaves.remove("$schema");
    Set<String> undocumented = new TreeSet<>(leaves);
    undocumented.removeIf(name -> documented.stream().anyMatch(d -> d.equals(name) || d.endsWith("." + name)));
    assertEquals(Set.of(), undocumented, "schema keys with no row in the README's tables");
    Set<String> unknown = new TreeSet<>();
    for (String key : documented) {
      if (!names.contains(key.substring(key.lastIndexOf('.') + 1))) {
        unknown.add(key);
      }
    }
    assertEquals(Set.of(), unknown, "README rows naming no schema key");
  }
}
