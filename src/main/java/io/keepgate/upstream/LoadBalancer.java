package io.keepgate.upstream;

import io.keepgate.config.LoadBalancing;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Picks the endpoint pool for one request.
 *
 * <p>Threading: called from every proxy event loop at once; implementations hold only atomics.
 */
interface LoadBalancer {

  EndpointPool choose(List<EndpointPool> pools);

  static LoadBalancer of(LoadBalancing policy) {
    return switch (policy) {
      case ROUND_ROBIN -> new RoundRobin();
      case RANDOM -> pools -> pools.get(ThreadLocalRandom.current().nextInt(pools.size()));
      case LEAST_REQUESTS -> LoadBalancer::leastRequests;
    };
  }

  /** Power of two choices: of two random endpoints, the one with fewer requests in flight or waiting. */
  private static EndpointPool leastRequests(List<EndpointPool> pools) {
    int size = pools.size();
    if (size == 1) {
      return pools.get(0);
    }
    ThreadLocalRandom random = ThreadLocalRandom.current();
    int first = random.nextInt(size);
    int second = (first + 1 + random.nextInt(size - 1)) % size;
    EndpointPool a = pools.get(first);
    EndpointPool b = pools.get(second);
    return b.load() < a.load() ? b : a;
  }

  /** Each endpoint in turn. */
  final class RoundRobin implements LoadBalancer {
    private final AtomicInteger next = new AtomicInteger();

    @Override
    public EndpointPool choose(List<EndpointPool> pools) {
      return pools.get(Math.floorMod(next.getAndIncrement(), pools.size()));
    }
  }
}
