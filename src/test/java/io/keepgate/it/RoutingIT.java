package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.CountingBackend;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.RawClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The claim under test: routes are tried in config order and the first whose host (exact,
 * case-insensitive, port ignored, or {@code *.domain}), path prefix and methods all match takes
 * the request; no match gives 404 with a one-line reason; {@code stripPrefix} and
 * {@code hostRewrite} change what the backend sees; and each load-balancing policy spreads
 * requests over every endpoint of an upstream. Observed at the backends, which answer with their
 * own name and record the URI and Host they received.
 */
class RoutingIT {

  /** A backend that answers with its name and records "Host URI" of every request. */
  private static final class Named implements AutoCloseable {
    final String name;
    final CountingBackend backend;
    final List<String> seen = new CopyOnWriteArrayList<>();

    Named(String name) throws Exception {
      this.name = name;
      this.backend = CountingBackend.start();
      backend.handler(request -> {
        seen.add(request.headers().get("Host") + " " + request.uri());
        request.response().end(name);
      });
    }

    String endpoint() {
      return backend.endpoint();
    }

    @Override
    public void close() throws Exception {
      backend.close();
    }
  }

  private static JsonObject upstream(String name, String... endpoints) {
    return new JsonObject().put("name", name).put("endpoints", new JsonArray(List.of((Object[]) endpoints)));
  }

  private static JsonObject route(String name, String upstream, JsonObject match) {
    return new JsonObject().put("name", name).put("upstream", upstream).put("match", match);
  }

  /** The harness config with these upstreams and routes instead of its own. */
  private static JsonObject config(JsonArray upstreams, JsonArray routes) {
    return GatewayHarness.config("127.0.0.1:1").put("upstreams", upstreams).put("routes", routes);
  }

  private static RawClient.Response send(RawClient client, String method, String host, String uri) throws Exception {
    client.send(method + " " + uri + " HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: 0\r\n\r\n");
    return client.readResponse();
  }

  /** The body (the backend's name) of a request that must succeed. */
  private static String via(RawClient client, String method, String host, String uri) throws Exception {
    RawClient.Response response = send(client, method, host, uri);
    assertEquals(200, response.status(), method + " " + host + uri + ": " + response.body());
    return response.body();
  }

  @Test
  void hostRoutesMatchExactNamesCaseInsensitivelyAndWildcardsOnlySubdomains() throws Exception {
    try (Named api = new Named("api"); Named wild = new Named("wild"); Named rest = new Named("rest")) {
      JsonObject config = config(
          new JsonArray().add(upstream("api", api.endpoint())).add(upstream("wild", wild.endpoint()))
              .add(upstream("rest", rest.endpoint())),
          new JsonArray()
              .add(route("exact", "api", new JsonObject().put("host", "api.example.com")))
              .add(route("wildcard", "wild", new JsonObject().put("host", "*.example.com")))
              .add(route("fallback", "rest", new JsonObject())));
      try (GatewayHarness gateway = GatewayHarness.start(config); RawClient client = new RawClient(gateway.port())) {
        assertEquals("api", via(client, "GET", "api.example.com", "/"));
        assertEquals("api", via(client, "GET", "API.Example.COM:8080", "/"), "case-insensitive, port ignored");
        assertEquals("wild", via(client, "GET", "shop.example.com", "/"));
        assertEquals("wild", via(client, "GET", "a.b.example.com:8443", "/"), "any depth of subdomain");
        assertEquals("rest", via(client, "GET", "example.com", "/"), "*.example.com needs a subdomain");
        assertEquals("rest", via(client, "GET", "notexample.com", "/"), "a suffix must be a whole label");
        assertEquals("rest", via(client, "GET", "other.org", "/"));
      }
    }
  }

  @Test
  void pathPrefixAndMethodsBothMustMatch() throws Exception {
    try (Named reads = new Named("reads"); Named writes = new Named("writes"); Named assets = new Named("assets")) {
      JsonObject config = config(
          new JsonArray().add(upstream("reads", reads.endpoint())).add(upstream("writes", writes.endpoint()))
              .add(upstream("assets", assets.endpoint())),
          new JsonArray()
              .add(route("v1-read", "reads",
                  new JsonObject().put("pathPrefix", "/v1/").put("methods", new JsonArray().add("GET").add("HEAD"))))
              .add(route("v1-write", "writes",
                  new JsonObject().put("pathPrefix", "/v1/").put("methods", new JsonArray().add("POST").add("PUT"))))
              .add(route("static", "assets", new JsonObject().put("pathPrefix", "/static/"))));
      try (GatewayHarness gateway = GatewayHarness.start(config); RawClient client = new RawClient(gateway.port())) {
        assertEquals("reads", via(client, "GET", "h", "/v1/items"));
        assertEquals("writes", via(client, "POST", "h", "/v1/items"));
        assertEquals("writes", via(client, "PUT", "h", "/v1/items/7"));
        assertEquals("assets", via(client, "GET", "h", "/static/app.css"));
        assertEquals("assets", via(client, "DELETE", "h", "/static/app.css"), "no methods listed: all allowed");

        RawClient.Response wrongMethod = send(client, "DELETE", "h", "/v1/items/7");
        assertEquals(404, wrongMethod.status(), "prefix matches but no route allows DELETE");
        RawClient.Response wrongPrefix = send(client, "GET", "h", "/v2/items");
        assertEquals(404, wrongPrefix.status());
      }
      assertEquals(1, reads.seen.size());
      assertEquals(2, writes.seen.size());
      assertEquals(2, assets.seen.size());
    }
  }

  @Test
  void firstMatchingRouteWinsEvenWhenALaterOneIsMoreSpecific() throws Exception {
    try (Named first = new Named("first"); Named second = new Named("second")) {
      JsonObject config = config(
          new JsonArray().add(upstream("first", first.endpoint())).add(upstream("second", second.endpoint())),
          new JsonArray()
              .add(route("broad", "first", new JsonObject().put("pathPrefix", "/")))
              .add(route("specific", "second",
                  new JsonObject().put("host", "special.example").put("pathPrefix", "/special/")
                      .put("methods", new JsonArray().add("GET")))));
      try (GatewayHarness gateway = GatewayHarness.start(config); RawClient client = new RawClient(gateway.port())) {
        for (int i = 0; i < 5; i++) {
          assertEquals("first", via(client, "GET", "special.example", "/special/" + i));
        }
      }
      assertEquals(0, second.backend.requests(), "the later, more specific route never took a request");
    }
  }

  @Test
  void requestMatchingNoRouteGets404WithAOneLineReasonAndReachesNoBackend() throws Exception {
    try (Named only = new Named("only")) {
      JsonObject config = config(new JsonArray().add(upstream("only", only.endpoint())),
          new JsonArray().add(route("api", "only", new JsonObject().put("host", "api.example").put("pathPrefix", "/api/"))));
      try (GatewayHarness gateway = GatewayHarness.start(config); RawClient client = new RawClient(gateway.port())) {
        RawClient.Response response = send(client, "GET", "api.example", "/elsewhere");
        assertEquals(404, response.status());
        String body = response.body();
        assertTrue(!body.isBlank() && body.endsWith("\n") && body.indexOf('\n') == body.length() - 1,
            "a one-line reason, got \"" + body + "\"");
        assertTrue(response.header("Content-Type").startsWith("text/plain"));

        assertEquals("only", via(client, "GET", "api.example", "/api/x"), "the connection stays usable after 404");
      }
      assertEquals(1, only.backend.requests(), "only the routed request reached the backend");
    }
  }

  @Test
  void stripPrefixRemovesThePrefixKeepsTheQueryAndNeverLeavesAnEmptyPath() throws Exception {
    try (Named api = new Named("api")) {
      JsonObject config = config(new JsonArray().add(upstream("api", api.endpoint())),
          new JsonArray().add(route("api", "api", new JsonObject().put("pathPrefix", "/api")).put("stripPrefix", "/api")));
      try (GatewayHarness gateway = GatewayHarness.start(config); RawClient client = new RawClient(gateway.port())) {
        via(client, "GET", "h", "/api/users?x=1");
        via(client, "GET", "h", "/api");
        via(client, "GET", "h", "/api?q=2");
        via(client, "GET", "h", "/api/");
      }
      assertEquals(List.of("h /users?x=1", "h /", "h /?q=2", "h /"), api.seen);
    }
  }

  @Test
  void hostRewriteChangesTheHostTheBackendSeesButNotXForwardedHost() throws Exception {
    List<String> forwardedHosts = new CopyOnWriteArrayList<>();
    try (Named internal = new Named("internal")) {
      internal.backend.handler(request -> {
        internal.seen.add(request.headers().get("Host") + " " + request.uri());
        forwardedHosts.add(request.headers().get("X-Forwarded-Host"));
        request.response().end("internal");
      });
      JsonObject config = config(new JsonArray().add(upstream("internal", internal.endpoint())),
          new JsonArray()
              .add(route("rewritten", "internal", new JsonObject().put("pathPrefix", "/r/"))
                  .put("hostRewrite", "internal.svc:8080"))
              .add(route("kept", "internal", new JsonObject())));
      try (GatewayHarness gateway = GatewayHarness.start(config); RawClient client = new RawClient(gateway.port())) {
        via(client, "GET", "public.example", "/r/a");
        via(client, "GET", "public.example", "/k/b");
      }
      assertEquals(List.of("internal.svc:8080 /r/a", "public.example /k/b"), internal.seen);
      assertEquals(List.of("public.example", "public.example"), forwardedHosts, "X-Forwarded-Host is the client's Host");
    }
  }

  @Test
  void roundRobinAlternatesBetweenTwoEndpointsEvenly() throws Exception {
    try (Named a = new Named("a"); Named b = new Named("b")) {
      JsonObject config = GatewayHarness.config(a.endpoint(), b.endpoint());
      GatewayHarness.upstream(config).put("loadBalancer", "round-robin");
      List<String> order = new ArrayList<>();
      try (GatewayHarness gateway = GatewayHarness.start(config); RawClient client = new RawClient(gateway.port())) {
        for (int i = 0; i < 20; i++) {
          order.add(via(client, "GET", "h", "/rr/" + i));
        }
      }
      for (int i = 1; i < order.size(); i++) {
        assertTrue(!order.get(i).equals(order.get(i - 1)), "strict alternation, got " + order);
      }
      assertEquals(10, a.backend.requests());
      assertEquals(10, b.backend.requests());
    }
  }

  @ParameterizedTest(name = "{0} reaches every endpoint")
  @ValueSource(strings = {"random", "least-requests"})
  void everyLoadBalancingPolicyReachesEveryEndpoint(String policy) throws Exception {
    try (Named a = new Named("a"); Named b = new Named("b")) {
      JsonObject config = GatewayHarness.config(a.endpoint(), b.endpoint());
      GatewayHarness.upstream(config).put("loadBalancer", policy);
      try (GatewayHarness gateway = GatewayHarness.start(config); RawClient client = new RawClient(gateway.port())) {
        for (int i = 0; i < 40; i++) {
          via(client, "GET", "h", "/lb/" + i);
        }
      }
      // all 40 on one side by chance: probability 2^-39
      assertTrue(a.backend.requests() > 0 && b.backend.requests() > 0,
          policy + ": a=" + a.backend.requests() + " b=" + b.backend.requests());
      assertEquals(40, a.backend.requests() + b.backend.requests());
    }
  }
}
