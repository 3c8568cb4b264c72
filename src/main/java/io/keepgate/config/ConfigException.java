package io.keepgate.config;

import java.util.List;

/** An invalid configuration: every problem found, each naming the JSON path and the reason. */
public final class ConfigException extends Exception {
  private final List<String> problems;

  public ConfigException(List<String> problems) {
    super(String.join("\n", problems));
    this.problems = List.copyOf(problems);
  }

  /** One line per problem, e.g. {@code routes[1].upstream: no upstream named "billing"}. */
  public List<String> problems() {
    return problems;
  }
}
