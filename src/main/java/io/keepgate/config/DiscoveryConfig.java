package io.keepgate.config;

/**
 * Where an upstream's endpoints come from when it lists none ({@code upstreams[].discovery}): the
 * records of a DNS name or the EndpointSlices of a Kubernetes Service.
 */
public sealed interface DiscoveryConfig permits DnsDiscoveryConfig, KubernetesDiscoveryConfig {

  /** The source's name in metrics: {@code keepgate_discovery_updates_total{source}}. */
  String source();
}
