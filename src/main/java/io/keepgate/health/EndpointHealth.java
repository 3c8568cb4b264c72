package io.keepgate.health;

import io.keepgate.cluster.ClusterState;
import io.keepgate.config.Endpoint;
import io.keepgate.config.HealthCheckConfig;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The health of one endpoint, beside its pools rather than inside them: traffic on every event
 * loop reports outcomes, {@link HealthState} decides, and this class acts. An ejection is shared
 * with the cluster and tells the pools (idle connections close, waiters go elsewhere); active
 * probes (or, with none configured, TCP probes while ejected) readmit it. Only the node owning the
 * endpoint's partition probes; the others adopt its verdicts.
 *
 * <p>Threading: reports come from any thread; {@link #healthy} is one volatile read, on every
 * request. Probes run on a Vert.x context of their own, so a probe never waits for a proxy loop.
 */
public final class EndpointHealth {
  private static final Logger log = LoggerFactory.getLogger(EndpointHealth.class);

  private final String upstream;
  private final Endpoint endpoint;
  private final HealthCheckConfig config;
  private final HealthState state;
  private final ClusterState cluster;
  private volatile Runnable onEjected = () -> { };
  private Vertx vertx;
  private Context context;
  private HealthChecker checker;
  private long probeTimer = -1;
  private volatile boolean stopped;

  public EndpointHealth(String upstream, Endpoint endpoint, HealthCheckConfig config, ClusterState cluster) {
    this.upstream = upstream;
    this.endpoint = endpoint;
    this.config = config;
    this.state = new HealthState(config);
    this.cluster = cluster;
  }

  /** Runs when the endpoint is ejected, on whichever thread ejected it. */
  public void onEjected(Runnable action) {
    this.onEjected = action;
  }

  /** Whether the endpoint takes traffic. */
  public boolean healthy() {
    return state.healthy();
  }

  /** An exchange completed: a failure streak ends. */
  public void onSuccess() {
    state.onTrafficSuccess();
  }

  /** A connect failure, reset, timeout or dead peer seen by traffic. */
  public void onFailure(String what) {
    if (state.onFailure() == HealthState.Transition.EJECTED) {
      log.warn("upstream={} endpoint={} ejected after {} consecutive failures; last: {}", upstream, endpoint,
          config.unhealthyThreshold(), what);
      ejected();
      cluster.publishHealth(upstream, endpoint.toString(), false);
    }
  }

  /** Another node's verdict (or this node's, echoed back). */
  public void adoptClusterVerdict(boolean healthy) {
    HealthState.Transition transition = state.adopt(healthy);
    if (transition == HealthState.Transition.EJECTED) {
      log.warn("upstream={} endpoint={} ejected by the cluster verdict", upstream, endpoint);
      ejected();
    } else if (transition == HealthState.Transition.READMITTED) {
      log.info("upstream={} endpoint={} readmitted by the cluster verdict", upstream, endpoint);
    }
  }

  /** Starts probing on a context of its own: active probes when configured, else none until an ejection. */
  public void start(Vertx vertx, HealthChecker checker) {
    this.vertx = vertx;
    this.checker = checker;
    this.context = vertx.getOrCreateContext();
    if (config.activeProbesEnabled()) {
      context.runOnContext(v -> scheduleProbe());
    }
  }

  public void stop() {
    stopped = true;
    if (context != null) {
      context.runOnContext(v -> vertx.cancelTimer(probeTimer));
    }
  }

  private void ejected() {
    onEjected.run();
    if (!config.activeProbesEnabled() && context != null) {
      context.runOnContext(v -> scheduleProbe()); // a TCP probe readmits it once it accepts connections
    }
  }

  /** The next probe, {@code intervalMs} plus or minus 10 % so probes of many endpoints spread out. */
  private void scheduleProbe() {
    if (stopped) {
      return;
    }
    long interval = config.interval().toMillis();
    long jitter = interval / 10;
    long delay = Math.max(1, interval - jitter + ThreadLocalRandom.current().nextLong(2 * jitter + 1));
    probeTimer = vertx.setTimer(delay, id -> probe());
  }

  private void probe() {
    if (stopped || (state.healthy() && !config.activeProbesEnabled())) {
      return;
    }
    if (!cluster.ownsProbe(upstream, endpoint.toString())) {
      scheduleProbe(); // another node probes this endpoint and publishes its verdict
      return;
    }
    checker.check(endpoint).onComplete(ar -> {
      if (stopped) {
        return;
      }
      if (ar.succeeded() && ar.result()) {
        if (state.onProbeSuccess() == HealthState.Transition.READMITTED) {
          log.info("upstream={} endpoint={} readmitted after {} successful probes", upstream, endpoint,
              config.healthyThreshold());
          cluster.publishHealth(upstream, endpoint.toString(), true);
        }
      } else {
        onFailure("health probe failed: " + (ar.failed() ? ar.cause().getMessage() : "unhealthy status"));
      }
      scheduleProbe();
    });
  }
}
