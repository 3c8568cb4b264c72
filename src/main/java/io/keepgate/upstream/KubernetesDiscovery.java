package io.keepgate.upstream;

import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditions;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.vertx5.Vertx5HttpClientFactory;
import io.keepgate.config.Endpoint;
import io.keepgate.config.KubernetesDiscoveryConfig;
import io.vertx.core.Vertx;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An upstream's endpoints from Kubernetes: the EndpointSlices of a Service, followed by a fabric8
 * informer, which lists them, watches from the list's resource version, resumes a dropped watch
 * from the last version it saw (relisting when the API server no longer has it), and retries
 * failures with a backoff of at most 32 s. While the API server is unreachable the last set keeps
 * serving.
 *
 * <p>Endpoint conditions: a {@code ready} endpoint takes new requests. One that is not ready, is
 * terminating, or is gone leaves the set and drains: no new request, in-flight ones finish, idle
 * pooled connections close at once. When no endpoint of the Service is ready, the serving ones
 * take the traffic, terminating or not, as kube-proxy does; when none serves either, the last set
 * stays (as with an empty DNS answer) rather than turning every request into a 503.
 *
 * <p>Threading: built on a thread that may block (start or reload: fabric8 reads the service
 * account's files); the informer's events and its first list's completion call {@link #refresh},
 * serialized on this object, and {@code onChange} runs there; a Vert.x timer checks the watch.
 */
final class KubernetesDiscovery implements EndpointDiscovery {
  private static final Logger log = LoggerFactory.getLogger(KubernetesDiscovery.class);
  /** The label the EndpointSlice controller puts on every slice of a Service. */
  private static final String SERVICE_LABEL = "kubernetes.io/service-name";
  /** The first retry of a failed list or watch; fabric8 doubles it up to 32 times this. */
  private static final int RECONNECT_MILLIS = 1000;
  /** How long a synced informer may be without a watch before a new one lists afresh. */
  private static final int WATCH_STALL_SECONDS = 10;
  private static final Comparator<Endpoint> ORDER = Comparator.comparing(Endpoint::host).thenComparingInt(Endpoint::port);

  private final KubernetesDiscoveryConfig config;
  private final String upstream;
  private final String namespace;
  private final DiscoveredSet discovered;
  private final KubernetesClient client;
  private final Vertx vertx;
  /** The informer now; replaced by a new one (a fresh list) when its watch stays down. */
  private volatile SharedIndexInformer<EndpointSlice> informer;
  private long watchCheck = -1;
  /** Seconds the synced informer has been without a watch; touched by the watch check's timer only. */
  private int secondsUnwatched;
  private volatile boolean closed;

  /**
   * @param counter told ({@code upstream}, result) for every change the watch brings and every
   *                failure: {@code changed}, {@code unchanged}, {@code empty} or {@code failed}
   */
  KubernetesDiscovery(KubernetesDiscoveryConfig config, String upstream, Vertx vertx,
      Consumer<List<Endpoint>> onChange, BiConsumer<String, String> counter) {
    this.config = config;
    this.upstream = upstream;
    this.vertx = vertx;
    Config client = Config.autoConfigure(null); // in a pod: the service account's token, CA and namespace
    if (!config.apiServer().isEmpty()) {
      client.setMasterUrl(config.apiServer());
    }
    client.setWatchReconnectInterval(RECONNECT_MILLIS);
    client.setWatchReconnectLimit(-1); // an API server that comes back is always found again
    client.setRequestRetryBackoffLimit(0); // a failed list is the informer's to retry, with its backoff, and counted
    this.namespace = !config.namespace().isEmpty() ? config.namespace()
        : Objects.requireNonNullElse(client.getNamespace(), "default");
    this.discovered = new DiscoveredSet(upstream, "service " + namespace + "/" + config.service(), onChange, counter);
    this.client = new KubernetesClientBuilder().withConfig(client)
        .withHttpClientFactory(new Vertx5HttpClientFactory(vertx)) // keepgate's Vert.x, not a second one
        .build();
  }

  /** Starts the list and the watch, and the check that the watch stays up; returns at once. */
  @Override
  public void start() {
    log.info("upstream {}: following the EndpointSlices of service {}/{} port {} from {}", upstream, namespace,
        config.service(), config.port(), client.getMasterUrl());
    startInformer();
    watchCheck = vertx.setPeriodic(1000, id -> checkWatch());
  }

  /**
   * An informer on the Service's slices. Its events apply once its first list is complete: a list
   * arrives as one event per slice, and a set read half way would drain the endpoints of slices
   * not yet read.
   */
  private void startInformer() {
    SharedIndexInformer<EndpointSlice> next = client.discovery().v1().endpointSlices().inNamespace(namespace)
        .withLabel(SERVICE_LABEL, config.service())
        .runnableInformer(0);
    next.exceptionHandler((started, error) -> {
      countFailure();
      log.warn("upstream {}: Kubernetes service {}/{} unreachable ({}); keeping its endpoints and retrying", upstream,
          namespace, config.service(), error.toString());
      return true;
    });
    next.addEventHandler(new ResourceEventHandler<>() {
      @Override
      public void onAdd(EndpointSlice slice) {
        refresh(next);
      }

      @Override
      public void onUpdate(EndpointSlice before, EndpointSlice after) {
        refresh(next);
      }

      @Override
      public void onDelete(EndpointSlice slice, boolean finalStateUnknown) {
        refresh(next);
      }
    });
    informer = next;
    next.start().whenComplete((ok, error) -> {
      if (error == null) {
        refresh(next);
      } else if (!closed) {
        log.warn("upstream {}: Kubernetes discovery stopped: {}", upstream, error.toString());
      }
    });
  }

  /**
   * fabric8 resumes a dropped watch from the last version it saw, retrying with backoff; an answer
   * it retries forever (a 4xx from a proxy in front of the API server, say) would leave the set
   * stale. A synced informer without a watch for {@link #WATCH_STALL_SECONDS} is replaced by a
   * new one, which lists afresh.
   */
  private void checkWatch() {
    SharedIndexInformer<EndpointSlice> now = informer;
    if (closed || !now.hasSynced() || now.isWatching()) {
      secondsUnwatched = 0;
      return;
    }
    if (++secondsUnwatched == 1) {
      countFailure();
    }
    if (secondsUnwatched >= WATCH_STALL_SECONDS) {
      log.warn("upstream {}: no watch on service {}/{} for {} s; listing again", upstream, namespace, config.service(),
          secondsUnwatched);
      secondsUnwatched = 0;
      now.stop();
      startInformer();
    }
  }

  /** The endpoints of every slice {@code source} holds now, as the class comment says which. */
  private synchronized void refresh(SharedIndexInformer<EndpointSlice> source) {
    if (source != informer || !source.hasSynced() || closed) {
      return; // replaced, or still in its first list
    }
    TreeSet<Endpoint> ready = new TreeSet<>(ORDER);
    TreeSet<Endpoint> serving = new TreeSet<>(ORDER);
    int terminating = 0;
    for (EndpointSlice slice : source.getStore().list()) {
      Integer port = portOf(slice);
      if (port == null || !("IPv4".equals(slice.getAddressType()) || "IPv6".equals(slice.getAddressType()))) {
        continue; // not the port we follow, or FQDN endpoints (a name to resolve, not an address)
      }
      for (io.fabric8.kubernetes.api.model.discovery.v1.Endpoint endpoint : slice.getEndpoints()) {
        EndpointConditions conditions = endpoint.getConditions();
        // unknown (null) readiness and serving count as true, unknown terminating as false (the API's advice)
        boolean isReady = conditions == null || !Boolean.FALSE.equals(conditions.getReady());
        boolean isServing = conditions == null || !Boolean.FALSE.equals(conditions.getServing());
        boolean isTerminating = conditions != null && Boolean.TRUE.equals(conditions.getTerminating());
        terminating += isTerminating ? 1 : 0;
        for (String address : endpoint.getAddresses()) {
          if (isReady && !isTerminating) {
            ready.add(new Endpoint(address, port));
          } else if (isServing) {
            serving.add(new Endpoint(address, port));
          }
        }
      }
    }
    List<Endpoint> found = List.copyOf(ready.isEmpty() ? serving : ready);
    if (found.isEmpty()) {
      discovered.noEndpoint("empty", "no serving endpoint");
    } else {
      discovered.answer(found, " (" + terminating + " terminating)"
          + (ready.isEmpty() ? ", none ready: the serving ones take the traffic" : ""));
    }
  }

  /** Counted under this object's lock, as the answers are: the set is touched by one caller at a time. */
  private synchronized void countFailure() {
    discovered.failed();
  }

  /** The port the slice's endpoints listen on for the configured Service port, or null. */
  private Integer portOf(EndpointSlice slice) {
    if (config.portName().isEmpty()) {
      return config.portNumber();
    }
    for (EndpointPort port : slice.getPorts()) {
      if (config.portName().equals(port.getName()) && port.getPort() != null) {
        return port.getPort();
      }
    }
    return null;
  }

  @Override
  public void close() {
    closed = true;
    vertx.cancelTimer(watchCheck);
    informer.close();
    client.close();
  }
}
