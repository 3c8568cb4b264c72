package io.keepgate.upstream;

import io.keepgate.config.Endpoint;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The endpoint set a discovery source last gave its upstream, and what each new answer does to
 * it: a changed set goes on to the upstream, the same set changes nothing, and an answer without
 * an endpoint keeps the last set (an upstream never empties because its source hiccuped). Every
 * answer is counted by result; a run of answers without an endpoint is logged once.
 *
 * <p>Threading: one caller at a time (the source's event loop or lock).
 */
final class DiscoveredSet {
  private static final Logger log = LoggerFactory.getLogger(DiscoveredSet.class);

  private final String upstream;
  /** The source for the log: {@code DNS api.shop.svc.cluster.local}, {@code service shop/api}. */
  private final String source;
  private final Consumer<List<Endpoint>> onChange;
  private final BiConsumer<String, String> counter;
  private List<Endpoint> current = List.of();
  /** Whether the last answer had endpoints. */
  private boolean answering = true;

  /**
   * @param counter told ({@code upstream}, result) for every answer: {@code changed},
   *                {@code unchanged}, {@code empty} or {@code failed}
   */
  DiscoveredSet(String upstream, String source, Consumer<List<Endpoint>> onChange, BiConsumer<String, String> counter) {
    this.upstream = upstream;
    this.source = source;
    this.onChange = onChange;
    this.counter = counter;
  }

  /** An answer with endpoints; {@code note} follows the set in the log line of a change. */
  void answer(List<Endpoint> found, String note) {
    if (!found.equals(current)) {
      log.info("upstream {}: {} -> {}{}", upstream, source, found, note);
      current = List.copyOf(found);
      counter.accept(upstream, "changed");
      onChange.accept(current);
    } else {
      if (!answering) {
        log.info("upstream {}: {} answers again", upstream, source);
      }
      counter.accept(upstream, "unchanged");
    }
    answering = true;
  }

  /** An answer without an endpoint, {@code empty} or {@code failed}: the last set stays. */
  void noEndpoint(String result, String why) {
    counter.accept(upstream, result);
    if (answering) {
      log.warn("upstream {}: {} gave no endpoint ({}); keeping its {} endpoints until it does", upstream, source, why,
          current.size());
    }
    answering = false;
  }

  /** A failure of the source that is not an answer (a lost watch): counted, logged by the source. */
  void failed() {
    counter.accept(upstream, "failed");
  }
}
