package io.keepgate.upstream;

/** A source of an upstream's endpoints (DNS, Kubernetes), feeding {@link Upstream#updateEndpoints} once started. */
interface EndpointDiscovery extends AutoCloseable {

  /** Starts asking; returns at once. */
  void start();

  /** Stops asking; what it found keeps serving until the upstream closes. */
  @Override
  void close();
}
