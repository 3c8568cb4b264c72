package io.keepgate.testing;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads samples out of Prometheus text exposition, as a scraper would. Stateless. */
public final class PrometheusText {
  private PrometheusText() {}

  /** The sum of {@code name}'s samples whose labels contain every fragment ({@code reason="budget"}); 0 when absent. */
  public static double sum(String text, String name, String... labelFragments) {
    double sum = 0;
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*\\})? (\\S+)$").matcher(text);
    outer:
    while (m.find()) {
      String labels = m.group(1) == null ? "" : m.group(1);
      for (String fragment : labelFragments) {
        if (!labels.contains(fragment)) {
          continue outer;
        }
      }
      sum += Double.parseDouble(m.group(2));
    }
    return sum;
  }
}
