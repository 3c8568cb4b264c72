package io.keepgate;

import io.keepgate.config.GatewayConfig;
import io.keepgate.routing.RouteTable;
import io.keepgate.upstream.Upstreams;

/**
 * What one applied config runs with: its upstreams (pools), its routes, and its version (1 at
 * start, one more per applied reload).
 *
 * <p>Threading: immutable; the gateway swaps the current one atomically on reload, and a request
 * keeps the runtime it started with.
 */
public record GatewayRuntime(GatewayConfig config, Upstreams upstreams, RouteTable routes, int version) {}
