package io.keepgate.upstream;

import io.keepgate.config.LoadBalancing;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Picks the endpoint for one request among the healthy ones, without allocating.
 *
 * <p>Threading: called from every proxy event loop at once. Round robin keeps one cursor per loop
 * (each written by its own loop only), so loops never contend on a shared counter; together they
 * still spread requests evenly.
 */
interface LoadBalancer {

  /** A healthy endpoint, or {@code null} when none is. */
  UpstreamEndpoint choose(List<UpstreamEndpoint> endpoints, int loopIndex);

  static LoadBalancer of(LoadBalancing policy, int loops) {
    return switch (policy) {
      case ROUND_ROBIN -> new RoundRobin(loops);
      case RANDOM -> (endpoints, loop) -> firstHealthyFrom(endpoints, ThreadLocalRandom.current().nextInt(endpoints.size()));
      case LEAST_REQUESTS -> LoadBalancer::leastRequests;
    };
  }

  /** The first healthy endpoint at or after {@code start}, wrapping around; {@code null} when none is. */
  static UpstreamEndpoint firstHealthyFrom(List<UpstreamEndpoint> endpoints, int start) {
    int size = endpoints.size();
    for (int i = 0; i < size; i++) {
      UpstreamEndpoint endpoint = endpoints.get((start + i) % size);
      if (endpoint.health().healthy()) {
        return endpoint;
      }
    }
    return null;
  }

  /** Power of two choices: of two random healthy endpoints, the one with fewer requests in flight or waiting. */
  private static UpstreamEndpoint leastRequests(List<UpstreamEndpoint> endpoints, int loop) {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    UpstreamEndpoint a = firstHealthyFrom(endpoints, random.nextInt(endpoints.size()));
    UpstreamEndpoint b = firstHealthyFrom(endpoints, random.nextInt(endpoints.size()));
    return a == null || b == null || a.load() <= b.load() ? a : b;
  }

  /** Each endpoint in turn, skipping ejected ones. */
  final class RoundRobin implements LoadBalancer {
    /** One cursor per event loop, each padded onto its own cache line. */
    private final int[] cursors;

    RoundRobin(int loops) {
      this.cursors = new int[loops * 16];
    }

    @Override
    public UpstreamEndpoint choose(List<UpstreamEndpoint> endpoints, int loopIndex) {
      int slot = loopIndex * 16;
      int start = Math.floorMod(cursors[slot]++ + loopIndex, endpoints.size());
      return firstHealthyFrom(endpoints, start);
    }
  }
}
