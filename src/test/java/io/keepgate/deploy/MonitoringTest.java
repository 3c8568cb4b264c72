package io.keepgate.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.keepgate.metrics.MetricNames;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * k8s/monitoring/ ships what operators import: a Grafana dashboard and Prometheus alert rules (a
 * plain rules file and the same groups as a PrometheusRule). Every metric they query is one keepgate
 * exports (a renamed metric fails the build), the rules pass {@code promtool check rules} and their
 * own {@code promtool test rules} (each alert fires on the series that should fire it), and the
 * dashboard is importable: a datasource variable used by every panel, an expression in every target.
 */
class MonitoringTest {
  private static final Path MONITORING = Project.K8S.resolve("monitoring");
  private static final Path RULES = MONITORING.resolve("keepgate.rules.yml");
  private static final Path DASHBOARD = MONITORING.resolve("keepgate-dashboard.json");
  private static final Pattern METRIC = Pattern.compile("keepgate_[a-z0-9_]+");
  /** What Micrometer's Prometheus names add to a meter's name: counters, timers, units, histograms. */
  private static final List<String> SUFFIXES = List.of("", "_total", "_bytes", "_seconds", "_seconds_total",
      "_seconds_bucket", "_seconds_count", "_seconds_sum", "_seconds_max");

  /** The Prometheus names keepgate exports, from its metric catalog. */
  private static Set<String> exported() throws IllegalAccessException {
    Set<String> names = new HashSet<>();
    for (Field field : MetricNames.class.getFields()) {
      if (Modifier.isStatic(field.getModifiers()) && field.get(null) instanceof String name && name.startsWith("keepgate.")) {
        String base = name.replace('.', '_');
        SUFFIXES.forEach(suffix -> names.add(base + suffix));
      }
    }
    return names;
  }

  private static List<String> expressions(JsonNode node, String field) {
    List<String> found = new ArrayList<>();
    node.findValues(field).forEach(value -> {
      if (value.isTextual()) {
        found.add(value.asText());
      }
    });
    return found;
  }

  private static Set<String> metricsIn(List<String> expressions) {
    Set<String> metrics = new TreeSet<>();
    for (String expression : expressions) {
      Matcher matcher = METRIC.matcher(expression);
      while (matcher.find()) {
        metrics.add(matcher.group());
      }
    }
    return metrics;
  }

  @Test
  void everyMetricTheDashboardAndTheAlertsQueryIsOneKeepgateExports() throws Exception {
    Set<String> exported = exported();
    List<String> queries = new ArrayList<>(expressions(new ObjectMapper().readTree(DASHBOARD.toFile()), "expr"));
    queries.addAll(expressions(new ObjectMapper().readTree(DASHBOARD.toFile()), "definition"));
    queries.addAll(expressions(new YAMLMapper().readTree(RULES.toFile()), "expr"));
    Set<String> used = metricsIn(queries);
    assertTrue(used.size() >= 15, "the queries were read: " + used);
    Set<String> unknown = new TreeSet<>(used);
    unknown.removeAll(exported);
    assertEquals(Set.of(), unknown, "queried but not exported by keepgate (renamed?)");
  }

  @Test
  void thePrometheusRuleCarriesTheRulesFileGroups() throws Exception {
    JsonNode rules = new YAMLMapper().readTree(RULES.toFile());
    JsonNode manifest = new YAMLMapper().readTree(MONITORING.resolve("prometheusrule.yaml").toFile());
    assertEquals("PrometheusRule", manifest.path("kind").asText());
    assertEquals(rules.path("groups"), manifest.path("spec").path("groups"));
    JsonNode kustomization = new YAMLMapper().readTree(MONITORING.resolve(Project.KUSTOMIZATION).toFile());
    assertEquals("prometheusrule.yaml", kustomization.path("resources").path(0).asText());
    assertEquals("keepgate-dashboard.json",
        kustomization.path("configMapGenerator").path(0).path("files").path(0).asText());
  }

  @Test
  void theRulesPassPromtoolAndTheirOwnTests() throws Exception {
    String check = promtool("check", "rules", RULES.toString());
    assertTrue(check.contains("SUCCESS: 8 rules found"), check);
    promtool("test", "rules", MONITORING.resolve("keepgate.rules.test.yml").toString());
  }

  @Test
  void theDashboardIsImportableWithAPrometheusDatasourceVariable() throws Exception {
    JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
    JsonNode datasource = dashboard.path("templating").path("list").path(0);
    assertEquals("datasource", datasource.path("type").asText());
    assertEquals("prometheus", datasource.path("query").asText());
    Set<Integer> ids = new HashSet<>();
    int targets = 0;
    for (JsonNode panel : dashboard.path("panels")) {
      assertTrue(ids.add(panel.path("id").asInt()), "panel ids are unique: " + panel.path("title"));
      JsonNode grid = panel.path("gridPos");
      assertTrue(grid.path("x").asInt() + grid.path("w").asInt() <= 24, "fits the grid: " + panel.path("title"));
      if (panel.path("type").asText().equals("row")) {
        continue;
      }
      assertEquals("${datasource}", panel.path("datasource").path("uid").asText(), panel.path("title").asText());
      for (JsonNode target : panel.path("targets")) {
        assertTrue(!target.path("expr").asText().isBlank(), panel.path("title").asText());
        targets++;
      }
    }
    assertTrue(targets >= 20, "the dashboard queries: " + targets);
  }

  /** Runs promtool (Debian's prometheus package; .ci/run installs it); its output, failing the test if it fails. */
  private static String promtool(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("promtool"));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).directory(MONITORING.toFile()).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "promtool finished");
    assertEquals(0, process.exitValue(), String.join(" ", command) + ":\n" + output);
    return output;
  }
}
