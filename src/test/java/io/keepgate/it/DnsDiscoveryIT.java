package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.Await;
import io.keepgate.testing.CountingBackend;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.KeepAliveClients;
import io.keepgate.testing.TestDnsServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The claim under test: an upstream whose endpoints come from DNS follows the records while
 * clients keep sending: a new address gets requests, an address that leaves gets no new request
 * and drains (its idle connections closed as {@code drained}), a failed or empty answer keeps the
 * last set, and no client sees an error. The DNS server is the test's own (Netty's DNS codec on
 * UDP); the backends listen on 127.0.0.2 and 127.0.0.3, one port.
 */
class DnsDiscoveryIT {

  /** A gateway config whose one upstream takes its endpoints from {@code dns}'s answers for api.test. */
  private static JsonObject discovering(TestDnsServer dns, int port, int refreshMs) {
    JsonObject config = GatewayHarness.config("127.0.0.1:1");
    JsonObject upstream = config.getJsonArray("upstreams").getJsonObject(0);
    upstream.remove("endpoints");
    upstream.put("discovery", new JsonObject().put("dns", new JsonObject().put("name", "api.test.")
        .put("port", port).put("refreshMs", refreshMs).put("servers", new JsonArray().add(dns.address()))));
    return config;
  }

  @Test
  void endpointsFollowTheRecordsUnderLoadWithoutAnError() throws Exception {
    try (TestDnsServer dns = new TestDnsServer();
        CountingBackend first = CountingBackend.startOn("127.0.0.2");
        CountingBackend second = CountingBackend.startOn("127.0.0.3", first.port())) {
      dns.answer("127.0.0.2");
      try (GatewayHarness gateway = GatewayHarness.start(discovering(dns, first.port(), 200))) {
        Await.until("the first address is an endpoint", Duration.ofSeconds(10),
            () -> gateway.metric("keepgate_discovery_updates_total", "result=\"changed\"") >= 1.0);
        KeepAliveClients clients = KeepAliveClients.start(gateway.port(), 8, i -> "/item/" + i);
        try {
          Await.until("the first backend serves", Duration.ofSeconds(10), () -> first.requests() > 100);
          assertEquals(0, second.requests(), "not in DNS yet");

          dns.answer("127.0.0.2", "127.0.0.3");
          Await.until("a new address gets requests", Duration.ofSeconds(10), () -> second.requests() > 100);
          assertEquals(2.0, gateway.metric("keepgate_upstream_endpoints", "state=\"ready\""));

          dns.answer("127.0.0.3");
          Await.until("the removed endpoint drains", Duration.ofSeconds(10),
              () -> gateway.metric("keepgate_upstream_connections_closed_total", "reason=\"drained\"") >= 1.0
                  && first.open() == 0);
          int firstServed = first.requests();
          int secondServed = second.requests();
          Await.until("the load goes on elsewhere", Duration.ofSeconds(10), () -> second.requests() > secondServed + 200);
          assertEquals(firstServed, first.requests(), "no new request reached the removed address");
          assertEquals(1.0, gateway.metric("keepgate_upstream_endpoints", "state=\"ready\""));
          assertEquals("ready", gateway.pool(second.endpoint()).getString("state"));

          dns.answer(); // an empty answer: the last set keeps serving
          Await.until("the empty answer is counted", Duration.ofSeconds(10),
              () -> gateway.metric("keepgate_discovery_updates_total", "result=\"empty\"") >= 1.0);
          int beforeEmpty = second.requests();
          Await.until("and requests are still served", Duration.ofSeconds(10), () -> second.requests() > beforeEmpty + 200);
        } finally {
          List<KeepAliveClients.Result> results = clients.stop(Duration.ofSeconds(20));
          List<String> failures = KeepAliveClients.failures(results);
          assertEquals(List.of(), failures, "no client saw an error through every change");
          assertTrue(results.stream().mapToInt(KeepAliveClients.Result::answered).sum() > 500);
        }
      }
    }
  }

  @Test
  void aShortRecordTtlShortensTheRefreshPeriod() throws Exception {
    try (TestDnsServer dns = new TestDnsServer(); CountingBackend backend = CountingBackend.startOn("127.0.0.2")) {
      dns.answer("127.0.0.2");
      dns.ttlSeconds(1);
      try (GatewayHarness gateway = GatewayHarness.start(discovering(dns, backend.port(), 600_000))) {
        // a 10-minute refresh, a 1 s TTL: asked again within seconds, two questions (A, AAAA) each time
        Await.until("the name is resolved again after its TTL", Duration.ofSeconds(10), () -> dns.questions() >= 6);
        assertTrue(gateway.metric("keepgate_discovery_updates_total", "result=\"unchanged\"") >= 1.0);
      }
    }
  }
}
