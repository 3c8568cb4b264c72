package io.keepgate.testing;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** curl as users run it against keepgate: its output, and an assertion that it succeeded. */
public final class Curl {
  private Curl() {}

  /** Runs {@code curl -sS --max-time 10 args...}; its output (stderr included), failing the test if curl did. */
  public static String run(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "10"));
    command.addAll(List.of(args));
    Process curl = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!curl.waitFor(20, TimeUnit.SECONDS) || curl.exitValue() != 0) {
      throw new AssertionError(String.join(" ", command) + ": " + output);
    }
    return output;
  }
}
