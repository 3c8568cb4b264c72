package io.keepgate.deploy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Dockerfile read the way the Docker builder reads it, as far as the checks need: comment lines
 * dropped (also inside continuations), backslash continuations joined, one {@link Instruction}
 * per logical line, grouped into {@link Stage}s by {@code FROM}. Exec-form arguments (JSON arrays)
 * are decoded. Parser directives and a custom escape character are not supported. Syntax errors
 * are {@link DockerfileLint}'s to report: instructions before the first FROM are left out here.
 */
final class Dockerfile {

  /** One instruction: keyword in upper case, the raw arguments, the line it starts on. */
  record Instruction(int line, String keyword, String arguments) {
    /** Flags before the first non-flag argument, e.g. {@code --from=build} as from -> build. */
    Map<String, String> flags() {
      Map<String, String> flags = new LinkedHashMap<>();
      for (String word : arguments.split("\\s+")) {
        if (!word.startsWith("--")) {
          break;
        }
        int equals = word.indexOf('=');
        flags.put(equals < 0 ? word.substring(2) : word.substring(2, equals), equals < 0 ? "" : word.substring(equals + 1));
      }
      return flags;
    }

    /** The arguments after the leading flags. */
    String withoutFlags() {
      String rest = arguments;
      while (rest.startsWith("--")) {
        int space = rest.indexOf(' ');
        rest = space < 0 ? "" : rest.substring(space + 1).trim();
      }
      return rest;
    }
  }

  /** A build stage: its base image, its name ({@code AS name}, or null) and its instructions. */
  record Stage(String image, String name, int line, List<Instruction> instructions) {
    List<Instruction> all(String keyword) {
      return instructions.stream().filter(i -> i.keyword().equals(keyword)).toList();
    }

    Instruction last(String keyword) {
      List<Instruction> found = all(keyword);
      return found.isEmpty() ? null : found.get(found.size() - 1);
    }
  }

  private static final Pattern FROM = Pattern.compile("(?i)(?:--platform=\\S+\\s+)?(\\S+)(?:\\s+AS\\s+(\\S+))?\\s*");
  private static final Pattern ENV_PAIR = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(\"((?:[^\"\\\\]|\\\\.)*)\"|'([^']*)'|(\\S*))");
  private static final ObjectMapper JSON = new ObjectMapper();

  final List<Instruction> instructions;
  final List<Stage> stages;

  Dockerfile(String text) {
    instructions = instructions(text);
    stages = new ArrayList<>();
    String image = null;
    String name = null;
    int line = 0;
    List<Instruction> current = null;
    for (Instruction instruction : instructions) {
      if (instruction.keyword().equals("FROM")) {
        if (current != null) {
          stages.add(new Stage(image, name, line, List.copyOf(current)));
        }
        Matcher from = FROM.matcher(instruction.arguments());
        image = from.matches() ? from.group(1) : instruction.arguments();
        name = from.matches() ? from.group(2) : null;
        line = instruction.line();
        current = new ArrayList<>();
      } else if (current != null) { // an ARG (or a mistake) before the first FROM belongs to no stage
        current.add(instruction);
      }
    }
    if (current != null) {
      stages.add(new Stage(image, name, line, List.copyOf(current)));
    }
  }

  /** The stage the image is made of. */
  Stage finalStage() {
    return stages.isEmpty() ? null : stages.get(stages.size() - 1);
  }

  private static List<Instruction> instructions(String text) {
    List<Instruction> result = new ArrayList<>();
    StringBuilder logical = null;
    int start = 0;
    String[] lines = text.split("\r?\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      String trimmed = line.trim();
      if (trimmed.startsWith("#") || trimmed.isEmpty() && logical == null) {
        continue; // comments go even inside a continuation; blank lines between instructions
      }
      if (logical == null) {
        logical = new StringBuilder();
        start = i + 1;
      }
      boolean continues = trimmed.endsWith("\\");
      logical.append(continues ? trimmed.substring(0, trimmed.length() - 1) : trimmed).append(' ');
      if (!continues) {
        String joined = logical.toString().trim();
        int space = joined.indexOf(' ');
        String keyword = (space < 0 ? joined : joined.substring(0, space)).toUpperCase(Locale.ROOT);
        result.add(new Instruction(start, keyword, space < 0 ? "" : joined.substring(space + 1).trim()));
        logical = null;
      }
    }
    return result;
  }

  /** The exec form (JSON array) of arguments, or null when they are in shell form. */
  static List<String> execForm(String arguments) {
    if (!arguments.startsWith("[")) {
      return null;
    }
    try {
      return JSON.readValue(arguments, new TypeReference<List<String>>() {});
    } catch (IOException e) {
      return null; // Docker runs an invalid JSON array in shell form
    }
  }

  /** {@code ENV} pairs of a stage, later ones winning; both {@code K=V ...} and {@code K V}. */
  static Map<String, String> env(Stage stage) {
    Map<String, String> env = new LinkedHashMap<>();
    for (Instruction instruction : stage.all("ENV")) {
      String arguments = instruction.arguments();
      if (!arguments.matches("[A-Za-z_][A-Za-z0-9_]*=.*")) {
        int space = arguments.indexOf(' ');
        env.put(space < 0 ? arguments : arguments.substring(0, space), space < 0 ? "" : arguments.substring(space + 1).trim());
        continue;
      }
      Matcher pair = ENV_PAIR.matcher(arguments);
      while (pair.find()) {
        String value = pair.group(3) != null ? pair.group(3).replaceAll("\\\\(.)", "$1")
            : pair.group(4) != null ? pair.group(4) : pair.group(5);
        env.put(pair.group(1), value);
      }
    }
    return env;
  }
}
