package io.keepgate.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.keepgate.config.ConfigLoader;
import io.keepgate.config.GatewayConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * docker/Dockerfile is one the Docker builder accepts (dockerfile-utils, see {@link DockerfileLint})
 * and builds the image SPEC section 7 asks for (see {@link DockerfileChecks} for every rule), and
 * .dockerignore keeps build output out of the context. Offline: the image is not built here (no
 * Docker engine in CI).
 */
class DockerfileTest {

  @Test
  void theDockerfilePassesDockerfileUtils() {
    assertEquals(List.of(), DockerfileLint.problems(Project.DOCKERFILE));
  }

  @Test
  void theDockerfilePassesEveryCheck() throws Exception {
    GatewayConfig imageConfig = ConfigLoader.load(Project.IMAGE_CONFIG);
    assertEquals(List.of(), DockerfileChecks.problems(Project.dockerfile(), imageConfig));
  }

  @Test
  void keyPropertiesOfTheImage() {
    Dockerfile dockerfile = Project.dockerfile();
    assertEquals(2, dockerfile.stages.size(), "build stage + runtime stage");
    assertTrue(dockerfile.stages.get(0).image().startsWith("maven:3.9.9-eclipse-temurin-17"), dockerfile.stages.get(0).image());
    Dockerfile.Stage runtime = dockerfile.finalStage();
    assertTrue(runtime.image().matches("eclipse-temurin:17\\.0\\.\\d+_\\d+-jre-\\w+"), "a pinned Temurin 17 JRE: " + runtime.image());
    assertEquals(10001L, Project.imageUid(dockerfile), "USER: the uid the Deployment runs as");
    assertEquals("SIGTERM", runtime.last("STOPSIGNAL").arguments());
    assertTrue(runtime.last("HEALTHCHECK").arguments().contains("/health/live"));
    String flags = Dockerfile.env(runtime).get("JAVA_TOOL_OPTIONS");
    assertNotNull(flags);
    assertTrue(flags.contains("-XX:MaxRAMPercentage=75"), flags);
    assertTrue(flags.contains("-XX:+ExitOnOutOfMemoryError"), flags);
    assertEquals("/etc/keepgate/keepgate.json", Dockerfile.env(runtime).get("KEEPGATE_CONFIG"));
    assertEquals(List.of("--config", "/etc/keepgate/keepgate.json"), Dockerfile.execForm(runtime.last("CMD").arguments()));
  }

  @Test
  void theDockerignoreKeepsBuildOutputAndGitOut() {
    assertEquals(List.of(), DockerfileChecks.dockerignoreProblems(Project.read(Project.ROOT.resolve(".dockerignore"))));
  }

  /** The health check is a bash one-liner (the JRE image has no JDK to run a Java check): at least it must parse. */
  @Test
  void theHealthCheckCommandIsValidBash() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/bin/bash")), "no bash here");
    String arguments = Project.dockerfile().finalStage().last("HEALTHCHECK").withoutFlags();
    List<String> command = Dockerfile.execForm(arguments.substring("CMD".length()).trim());
    assertNotNull(command, "HEALTHCHECK CMD in exec form");
    assertEquals(List.of("bash", "-c"), command.subList(0, 2));
    Process check = new ProcessBuilder("/bin/bash", "-n", "-c", command.get(2)).redirectErrorStream(true).start();
    assertTrue(check.waitFor(10, TimeUnit.SECONDS));
    String output = new String(check.getInputStream().readAllBytes());
    assertEquals(0, check.exitValue(), output);
    assertFalse(command.get(2).contains("curl") || command.get(2).contains("wget"), "needs nothing but bash");
  }
}
