package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.Await;
import io.keepgate.testing.CountingBackend;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.RawClient;
import io.keepgate.testing.TestCertificates;
import io.keepgate.testing.TestDnsServer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The claim under test: an upstream with {@code tls} is reached over TLS with its certificate
 * verified (chain against {@code caFile}, name against {@code serverName}), pooled TLS connections
 * are reused like cleartext ones (one handshake for many requests, counted), a client certificate
 * is presented for mutual TLS, and a failed verification is a 502 with its reason and a connect
 * failure of the endpoint. Without {@code serverName} the endpoint's host is the name; for an
 * upstream discovered through DNS, whose endpoints are addresses, it is the name looked up. The backends are Vert.x TLS servers with certificates made in the test.
 */
class UpstreamTlsIT {
  @TempDir
  Path dir;

  private CountingBackend tlsBackend(TestCertificates.Issued certificate, TestCertificates.Issued requiredClient)
      throws Exception {
    HttpServerOptions options = new HttpServerOptions().setSsl(true).setSni(true).setKeyCertOptions(new PemKeyCertOptions()
        .setCertPath(certificate.certFile().toString()).setKeyPath(certificate.keyFile().toString()));
    if (requiredClient != null) {
      options.setClientAuth(ClientAuth.REQUIRED)
          .setTrustOptions(new PemTrustOptions().addCertPath(requiredClient.certFile().toString()));
    }
    return CountingBackend.start(options);
  }

  private static JsonObject tls(String serverName, Path caFile) {
    return new JsonObject().put("enabled", true).put("serverName", serverName).put("caFile", caFile.toString());
  }

  private static RawClient.Response get(GatewayHarness gateway) throws Exception {
    try (RawClient client = new RawClient(gateway.port())) {
      client.send("GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
      return client.readResponse();
    }
  }

  @Test
  void pooledTlsConnectionsAreVerifiedAndReused() throws Exception {
    TestCertificates.Issued backendCertificate = TestCertificates.issue(dir, "backend.example.test");
    try (CountingBackend backend = tlsBackend(backendCertificate, null)) {
      AtomicReference<Boolean> overTls = new AtomicReference<>();
      backend.handler(request -> {
        overTls.set(request.isSSL());
        request.response().end("ok");
      });
      JsonObject config = GatewayHarness.config(backend.endpoint());
      config.getJsonObject("server").put("eventLoops", 1); // one loop, one pool: sequential requests share a connection
      config.getJsonArray("upstreams").getJsonObject(0)
          .put("tls", tls("backend.example.test", backendCertificate.certFile()));
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        for (int i = 0; i < 20; i++) {
          RawClient.Response response = get(gateway);
          assertEquals(200, response.status(), response.head());
          assertEquals("ok", response.body());
        }
        assertTrue(overTls.get(), "the backend was reached over TLS");
        assertEquals(1, backend.accepted(), "20 requests, one pooled TLS connection");
        JsonObject pool = gateway.pool(backend.endpoint());
        assertEquals(1, pool.getInteger("tlsHandshakes"), "one handshake, 19 saved: " + pool);
        assertEquals(1.0, gateway.metric("keepgate_upstream_tls_handshakes_total"));
        assertEquals(1.0, gateway.metric("keepgate_tls_handshakes_total", "side=\"upstream\"", "result=\"success\""));
      }
    }
  }

  @Test
  void aCertificateThatDoesNotVerifyIsA502WithItsReason() throws Exception {
    TestCertificates.Issued backendCertificate = TestCertificates.issue(dir, "backend.example.test");
    TestCertificates.Issued stranger = TestCertificates.issue(dir, "stranger.example.test");
    try (CountingBackend backend = tlsBackend(backendCertificate, null)) {
      Map<JsonObject, String> reasons = Map.of(
          tls("backend.example.test", stranger.certFile()), "unable to find valid certification path", // an untrusted chain
          tls("other.example.test", backendCertificate.certFile()), "other.example.test"); // trusted, another name
      for (Map.Entry<JsonObject, String> tls : reasons.entrySet()) {
        JsonObject config = GatewayHarness.config(backend.endpoint());
        config.getJsonArray("upstreams").getJsonObject(0).put("tls", tls.getKey());
        try (GatewayHarness gateway = GatewayHarness.start(config)) {
          RawClient.Response response = get(gateway);
          assertEquals(502, response.status());
          assertTrue(response.body().startsWith("connect to upstream failed: TLS handshake failed: ")
              && response.body().contains(tls.getValue()), response.body());
          assertEquals(1, gateway.pool(backend.endpoint()).getInteger("connectFailures"));
          assertEquals(1.0, gateway.metric("keepgate_tls_handshakes_total", "side=\"upstream\"", "result=\"failed\""));
        }
      }
      assertEquals(0, backend.requests(), "no request reached a backend that did not verify");
    }
  }

  @Test
  void aClientCertificateIsPresentedForMutualTls() throws Exception {
    TestCertificates.Issued backendCertificate = TestCertificates.issue(dir, "backend.example.test");
    TestCertificates.Issued client = TestCertificates.issue(dir, "gateway.example.test");
    try (CountingBackend backend = tlsBackend(backendCertificate, client)) {
      AtomicReference<String> presented = new AtomicReference<>();
      backend.handler(request -> {
        try {
          presented.set(request.connection().sslSession().getPeerPrincipal().getName());
        } catch (Exception e) {
          presented.set("none");
        }
        request.response().end("ok");
      });
      JsonObject config = GatewayHarness.config(backend.endpoint());
      config.getJsonArray("upstreams").getJsonObject(0).put("tls", tls("backend.example.test", backendCertificate.certFile())
          .put("certFile", client.certFile().toString()).put("keyFile", client.keyFile().toString()));
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        assertEquals(200, get(gateway).status());
        assertEquals("CN=gateway.example.test", presented.get());
      }

      JsonObject withoutCertificate = GatewayHarness.config(backend.endpoint());
      withoutCertificate.getJsonArray("upstreams").getJsonObject(0)
          .put("tls", tls("backend.example.test", backendCertificate.certFile()));
      try (GatewayHarness gateway = GatewayHarness.start(withoutCertificate)) {
        assertEquals(502, get(gateway).status(), "the backend requires a client certificate");
      }
    }
  }

  @Test
  void withoutServerNameTheEndpointsHostIsTheNameVerified() throws Exception {
    TestCertificates.Issued localhost = TestCertificates.issue(dir, "localhost");
    TestCertificates.Issued stranger = TestCertificates.issue(dir, "other.example.test");
    for (TestCertificates.Issued certificate : List.of(localhost, stranger)) {
      try (CountingBackend backend = tlsBackend(certificate, null)) {
        AtomicReference<String> sni = new AtomicReference<>("not asked");
        backend.handler(request -> {
          sni.set(request.connection().indicatedServerName());
          request.response().end("ok");
        });
        JsonObject config = GatewayHarness.config("localhost:" + backend.port());
        config.getJsonArray("upstreams").getJsonObject(0).put("tls", new JsonObject().put("enabled", true)
            .put("caFile", certificate.certFile().toString())); // no serverName; the chain is trusted either way
        try (GatewayHarness gateway = GatewayHarness.start(config)) {
          RawClient.Response response = get(gateway);
          if (certificate == localhost) {
            assertEquals(200, response.status(), response.body());
            // RFC 6066 names are fully qualified: neither engine sends a name without a dot
            assertEquals(null, sni.get(), "verified against localhost, which is not sent as SNI");
          } else {
            assertEquals(502, response.status());
            assertTrue(response.body().contains("localhost"), "the certificate does not name the host: " + response.body());
          }
        }
      }
    }
  }

  @Test
  void aDiscoveredUpstreamSendsAndVerifiesTheDnsNameNotAnAddress() throws Exception {
    TestCertificates.Issued backendCertificate = TestCertificates.issue(dir, "api.example.test");
    try (TestDnsServer dns = new TestDnsServer();
        CountingBackend backend = tlsBackend(backendCertificate, null)) {
      dns.answer("127.0.0.1");
      AtomicReference<String> sni = new AtomicReference<>();
      backend.handler(request -> {
        sni.set(request.connection().indicatedServerName());
        request.response().end("ok");
      });
      JsonObject config = GatewayHarness.config("127.0.0.1:1");
      JsonObject upstream = config.getJsonArray("upstreams").getJsonObject(0);
      upstream.remove("endpoints");
      upstream.put("discovery", new JsonObject().put("dns", new JsonObject().put("name", "api.example.test.")
          .put("port", backend.port()).put("refreshMs", 200).put("servers", new JsonArray().add(dns.address()))));
      upstream.put("tls", new JsonObject().put("enabled", true).put("caFile", backendCertificate.certFile().toString()));
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        Await.until("the address is an endpoint", Duration.ofSeconds(10),
            () -> gateway.metric("keepgate_upstream_endpoints", "state=\"ready\"") == 1.0);
        RawClient.Response response = get(gateway);
        assertEquals(200, response.status(), response.body());
        assertEquals("api.example.test", sni.get(), "the name looked up, without its root dot, not 127.0.0.1");
      }
    }
  }

  @Test
  void verificationCanBeTurnedOffForASelfSignedLabBackend() throws Exception {
    TestCertificates.Issued backendCertificate = TestCertificates.issue(dir, "backend.example.test");
    try (CountingBackend backend = tlsBackend(backendCertificate, null)) {
      JsonObject config = GatewayHarness.config(backend.endpoint());
      config.getJsonArray("upstreams").getJsonObject(0).put("tls", new JsonObject().put("enabled", true).put("verify", false));
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        assertEquals(200, get(gateway).status());
      }
    }
  }
}
