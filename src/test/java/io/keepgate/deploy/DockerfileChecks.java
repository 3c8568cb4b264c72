package io.keepgate.deploy;

import io.keepgate.config.GatewayConfig;
import io.keepgate.deploy.Dockerfile.Instruction;
import io.keepgate.deploy.Dockerfile.Stage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What keepgate's image must be (SPEC section 7), checked on the Dockerfile's text: a multi-stage
 * Maven build, base images pinned to exact versions, a numeric non-root user, only the jar and the
 * default config in the final image, container-aware JVM flags, the Hazelcast module flags, the
 * ports of the default config exposed, a health check on the admin listener, SIGTERM to stop.
 * Every rule broken is one line in {@link #problems}; an empty list means the file passes.
 *
 * <p>Whether the Docker builder would accept the file at all (instructions before FROM, unknown
 * instructions and flags, argument counts, HEALTHCHECK forms) is {@link DockerfileLint}'s, with
 * dockerfile-utils; these rules assume a file it passes.
 */
final class DockerfileChecks {

  /** The JDK packages Hazelcast 5 needs opened (or exported) on Java 17. */
  static final List<String> HAZELCAST_PACKAGES = List.of(
      "java.base/java.lang", "java.base/jdk.internal.ref", "java.base/java.nio", "java.base/sun.nio.ch",
      "java.management/sun.management", "jdk.management/com.sun.management.internal");
  static final String JAR = "/app/keepgate.jar";

  private static final Pattern EXACT_VERSION = Pattern.compile(".*\\d+\\.\\d+.*");
  private static final Pattern SECRET_NAME =
      Pattern.compile("(?i).*(password|passwd|secret|token|api_?key|private_?key|credential).*");
  /** {@code dependency:go-offline}, also with the plugin pinned (maven-dependency-plugin:3.11.0:go-offline). */
  private static final Pattern GO_OFFLINE =
      Pattern.compile(".*\\b(dependency|maven-dependency-plugin:[^:\\s]+):(go-offline|resolve)\\b.*");
  private static final Pattern RAM_PERCENTAGE = Pattern.compile("-XX:MaxRAMPercentage=(\\d+(\\.\\d+)?)");

  private DockerfileChecks() {}

  /**
   * @param dockerfile  the Dockerfile
   * @param imageConfig the config the image carries (config/keepgate.json): its ports must be
   *                    exposed and its admin port health-checked
   */
  static List<String> problems(Dockerfile dockerfile, GatewayConfig imageConfig) {
    List<String> problems = new ArrayList<>();
    if (dockerfile.stages.size() < 2) {
      problems.add("not a multi-stage build: " + dockerfile.stages.size() + " FROM (expected: a build stage and a runtime stage)");
    }
    Set<String> stageNames = new HashSet<>();
    for (Stage stage : dockerfile.stages) {
      baseImage(stage, stageNames, problems);
      if (stage.name() != null) {
        stageNames.add(stage.name().toLowerCase());
      }
      for (Instruction instruction : stage.instructions()) {
        if (instruction.keyword().equals("ENV") || instruction.keyword().equals("ARG")) {
          String name = instruction.arguments().split("[=\\s]", 2)[0];
          for (String key : instruction.keyword().equals("ENV") ? Dockerfile.env(new Stage(null, null, 0, List.of(instruction))).keySet() : Set.of(name)) {
            if (SECRET_NAME.matcher(key).matches()) {
              problems.add("line " + instruction.line() + ": " + instruction.keyword() + " " + key
                  + " looks like a secret (it would stay in the image history; pass secrets at run time)");
            }
          }
        }
      }
    }
    Stage runtime = dockerfile.finalStage();
    if (runtime == null) {
      return problems; // not a multi-stage build: 0 FROM
    }
    if (dockerfile.stages.size() >= 2) {
      buildStage(dockerfile, runtime, problems);
    }
    user(runtime, problems);
    copies(runtime, problems);
    Map<String, String> env = Dockerfile.env(runtime);
    List<String> entrypoint = entrypoint(runtime, problems);
    jvmFlags(entrypoint, env, problems);
    configPath(runtime, env, problems);
    exposed(runtime, imageConfig, problems);
    Instruction stop = runtime.last("STOPSIGNAL");
    if (stop == null || !Set.of("SIGTERM", "TERM", "15").contains(stop.arguments())) {
      problems.add("STOPSIGNAL " + (stop == null ? "missing" : stop.arguments()) + " (expected: SIGTERM, which starts keepgate's drain)");
    }
    healthCheck(runtime, imageConfig, problems);
    return problems;
  }

  private static void baseImage(Stage stage, Set<String> stageNames, List<String> problems) {
    String image = stage.image();
    if (stageNames.contains(image.toLowerCase())) {
      return; // FROM an earlier stage
    }
    String where = "line " + stage.line() + ": FROM " + image;
    if (image.contains("@sha256:")) {
      return; // pinned by digest
    }
    int slash = image.lastIndexOf('/');
    int colon = image.lastIndexOf(':');
    String tag = colon > slash ? image.substring(colon + 1) : null;
    if (tag == null) {
      problems.add(where + ": no tag, i.e. :latest (expected: an exact version tag or a digest)");
    } else if (tag.equals("latest")) {
      problems.add(where + ": :latest (expected: an exact version tag or a digest)");
    } else if (!EXACT_VERSION.matcher(tag).matches()) {
      problems.add(where + ": tag \"" + tag + "\" floats (expected: an exact version like 17.0.13_11-jre-jammy)");
    }
  }

  private static void buildStage(Dockerfile dockerfile, Stage runtime, List<String> problems) {
    Stage build = null;
    for (Instruction copy : runtime.all("COPY")) {
      String from = copy.flags().get("from");
      for (Stage stage : dockerfile.stages) {
        if (stage != runtime && stage.name() != null && stage.name().equalsIgnoreCase(from)) {
          build = stage;
        }
      }
    }
    if (build == null) {
      problems.add("the final stage copies nothing from a named build stage (expected: COPY --from=<build> .../keepgate.jar)");
      return;
    }
    int pom = -1;
    int src = -1;
    int resolve = -1;
    int packaged = -1;
    List<Instruction> steps = build.instructions();
    for (int i = 0; i < steps.size(); i++) {
      Instruction step = steps.get(i);
      String arguments = step.withoutFlags();
      if (step.keyword().equals("COPY") && arguments.matches("(\\./)?pom\\.xml\\s+.*") && pom < 0) {
        pom = i;
      } else if (step.keyword().equals("COPY") && arguments.matches("(\\./)?src/?\\s+.*")) {
        src = i;
      } else if (step.keyword().equals("RUN") && arguments.contains("mvn")
          && GO_OFFLINE.matcher(arguments).matches()) {
        resolve = i;
      } else if (step.keyword().equals("RUN") && arguments.contains("mvn") && arguments.matches(".*\\bpackage\\b.*")) {
        packaged = i;
        if (!arguments.contains("-B")) {
          problems.add("line " + step.line() + ": mvn without -B (batch mode)");
        }
        if (!arguments.contains("-DskipTests") && !arguments.contains("-Dmaven.test.skip")) {
          problems.add("line " + step.line() + ": mvn package runs the tests (expected: -DskipTests; the tests run in CI)");
        }
      } else if (step.keyword().equals("COPY") && arguments.matches("\\.\\s+.*")) {
        problems.add("line " + step.line() + ": COPY . in the build stage (expected: pom.xml first, then src/, for the layer cache)");
      }
    }
    if (pom < 0 || resolve < 0 || src < 0 || !(pom < resolve && resolve < src)) {
      problems.add("build stage \"" + build.name() + "\": dependency cache order not COPY pom.xml, RUN mvn dependency:go-offline, COPY src"
          + " (found at steps pom=" + pom + " resolve=" + resolve + " src=" + src + ")");
    }
    if (packaged < 0 || packaged < src) {
      problems.add("build stage \"" + build.name() + "\": no RUN mvn ... package after COPY src");
    }
  }

  private static void user(Stage runtime, List<String> problems) {
    Instruction user = runtime.last("USER");
    if (user == null) {
      problems.add("final stage: no USER, so the container runs as root (expected: a numeric non-root uid)");
      return;
    }
    String uid = user.arguments().split(":")[0];
    if (!uid.matches("\\d+")) {
      problems.add("line " + user.line() + ": USER " + user.arguments() + " (expected: a numeric uid, which Kubernetes' runAsNonRoot can verify)");
    } else if (Long.parseLong(uid) == 0) {
      problems.add("line " + user.line() + ": USER " + user.arguments() + " is root");
    }
  }

  private static void copies(Stage runtime, List<String> problems) {
    boolean jar = false;
    for (Instruction add : runtime.all("ADD")) {
      problems.add("line " + add.line() + ": ADD in the final stage (expected: COPY of the jar and the config only)");
    }
    for (Instruction copy : runtime.all("COPY")) {
      String[] words = copy.withoutFlags().split("\\s+");
      List<String> sources = Arrays.asList(words).subList(0, Math.max(0, words.length - 1));
      String destination = words[words.length - 1];
      boolean fromStage = copy.flags().containsKey("from");
      for (String source : sources) {
        boolean allowed = fromStage ? source.endsWith("/keepgate.jar") : source.equals("config/keepgate.json");
        if (!allowed) {
          problems.add("line " + copy.line() + ": COPY " + source + " into the final image (expected: only target/keepgate.jar and config/keepgate.json)");
        }
        if (fromStage && source.endsWith("/keepgate.jar")) {
          jar = true;
          if (!destination.equals(JAR)) {
            problems.add("line " + copy.line() + ": the jar goes to " + destination + " (expected: " + JAR + ")");
          }
        }
      }
    }
    if (!jar) {
      problems.add("final stage: keepgate.jar is not copied from the build stage");
    }
  }

  private static List<String> entrypoint(Stage runtime, List<String> problems) {
    Instruction instruction = runtime.last("ENTRYPOINT");
    List<String> entrypoint = instruction == null ? null : Dockerfile.execForm(instruction.arguments());
    if (entrypoint == null) {
      problems.add("ENTRYPOINT " + (instruction == null ? "missing" : "in shell form")
          + " (expected: exec form [\"java\", ..., \"-jar\", \"" + JAR + "\"], so java is PID 1 and gets SIGTERM)");
      return List.of();
    }
    int jar = entrypoint.indexOf("-jar");
    if (entrypoint.isEmpty() || !entrypoint.get(0).equals("java") || jar < 0 || jar != entrypoint.size() - 2
        || !entrypoint.get(jar + 1).equals(JAR)) {
      problems.add("line " + instruction.line() + ": ENTRYPOINT " + entrypoint + " (expected: [\"java\", <JVM flags>, \"-jar\", \"" + JAR + "\"])");
    }
    for (String module : HAZELCAST_PACKAGES) {
      boolean present = entrypoint.stream().anyMatch(argument ->
          argument.equals("--add-opens=" + module + "=ALL-UNNAMED") || argument.equals("--add-exports=" + module + "=ALL-UNNAMED"));
      if (!present) {
        problems.add("line " + instruction.line() + ": ENTRYPOINT lacks --add-opens=" + module + "=ALL-UNNAMED (Hazelcast on Java 17)");
      }
    }
    return entrypoint;
  }

  private static void jvmFlags(List<String> entrypoint, Map<String, String> env, List<String> problems) {
    List<String> flags = new ArrayList<>(entrypoint);
    for (String variable : List.of("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS")) {
      if (env.containsKey(variable)) {
        flags.addAll(Arrays.asList(env.get(variable).trim().split("\\s+")));
      }
    }
    Matcher percentage = flags.stream().map(RAM_PERCENTAGE::matcher).filter(Matcher::matches).reduce((a, b) -> b).orElse(null);
    if (percentage == null) {
      problems.add("JVM flags: no -XX:MaxRAMPercentage (expected: heap sized from the container's memory limit)");
    } else {
      double value = Double.parseDouble(percentage.group(1));
      if (value < 25 || value > 85) {
        problems.add("JVM flags: -XX:MaxRAMPercentage=" + percentage.group(1) + " (expected: 25..85, leaving room for off-heap memory)");
      }
    }
    if (!flags.contains("-XX:+ExitOnOutOfMemoryError")) {
      problems.add("JVM flags: no -XX:+ExitOnOutOfMemoryError (expected: exit and be restarted rather than run on after an OOM)");
    }
    for (String flag : flags) {
      if (flag.startsWith("-Xmx") || flag.startsWith("-Xms") || flag.startsWith("-XX:MaxHeapSize")) {
        problems.add("JVM flags: " + flag + " fixes the heap whatever the container's memory limit (use -XX:MaxRAMPercentage)");
      }
    }
  }

  private static void configPath(Stage runtime, Map<String, String> env, List<String> problems) {
    Instruction cmd = runtime.last("CMD");
    List<String> arguments = cmd == null ? null : Dockerfile.execForm(cmd.arguments());
    String path = arguments != null && arguments.size() == 2 && arguments.get(0).equals("--config") ? arguments.get(1) : null;
    if (path == null) {
      problems.add("CMD " + (cmd == null ? "missing" : cmd.arguments()) + " (expected: [\"--config\", \"/etc/keepgate/keepgate.json\"])");
      return;
    }
    if (!path.equals(env.get("KEEPGATE_CONFIG"))) {
      problems.add("ENV KEEPGATE_CONFIG=" + env.get("KEEPGATE_CONFIG") + " (expected: " + path + ", the path CMD passes)");
    }
    boolean copied = runtime.all("COPY").stream()
        .anyMatch(copy -> copy.withoutFlags().matches("config/keepgate\\.json\\s+" + Pattern.quote(path)));
    if (!copied) {
      problems.add("no COPY config/keepgate.json " + path + " (the config CMD names)");
    }
  }

  private static void exposed(Stage runtime, GatewayConfig config, List<String> problems) {
    Set<String> ports = new HashSet<>();
    for (Instruction expose : runtime.all("EXPOSE")) {
      for (String port : expose.arguments().split("\\s+")) {
        ports.add(port.replace("/tcp", ""));
      }
    }
    Map<String, Integer> expected = Map.of("server.port", config.server().port(), "admin.port", config.admin().port(),
        "cluster.port", config.cluster().port());
    expected.forEach((key, port) -> {
      if (!ports.contains(String.valueOf(port))) {
        problems.add("EXPOSE " + ports + " lacks " + port + " (" + key + " of config/keepgate.json)");
      }
    });
  }

  private static void healthCheck(Stage runtime, GatewayConfig config, List<String> problems) {
    Instruction check = runtime.last("HEALTHCHECK");
    if (check == null || check.arguments().equalsIgnoreCase("NONE")) {
      problems.add("no HEALTHCHECK (expected: GET /health/live on the admin port)");
      return;
    }
    String command = check.withoutFlags();
    int port = config.admin().port();
    if (!command.matches(".*[:/]" + port + "\\b.*") || !command.contains("/health/live")) {
      problems.add("line " + check.line() + ": HEALTHCHECK does not GET /health/live on the admin port " + port + " (admin.port of config/keepgate.json)");
    }
    if (!check.flags().containsKey("timeout")) {
      problems.add("line " + check.line() + ": HEALTHCHECK without --timeout");
    }
  }

  /** The build context must leave out build output and VCS data: an allowlist ({@code *} first) or explicit entries. */
  static List<String> dockerignoreProblems(String text) {
    List<String> problems = new ArrayList<>();
    List<String> rules = text.lines().map(String::trim).filter(line -> !line.isEmpty() && !line.startsWith("#")).toList();
    boolean allowlist = !rules.isEmpty() && rules.get(0).equals("*");
    for (String excluded : List.of("target", ".git")) {
      boolean reincluded = rules.stream().anyMatch(rule -> rule.startsWith("!") && rule.substring(1).replaceAll("^\\*\\*/|/$", "").equals(excluded));
      boolean listed = rules.stream().anyMatch(rule -> rule.replaceAll("^\\*\\*/|/$", "").equals(excluded));
      if (reincluded || !allowlist && !listed) {
        problems.add(".dockerignore: " + excluded + "/ reaches the build context");
      }
    }
    return problems;
  }
}
