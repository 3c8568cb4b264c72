package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.Await;
import io.keepgate.testing.CountingBackend;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.TestCertificates;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The claim under test: with {@code server.proxyProtocol} on, a PROXY header (v1 or v2) from a
 * trusted network gives the backend the real client in X-Forwarded-For, on the cleartext and the
 * TLS listener; a header from an untrusted source, or a malformed one, closes the connection,
 * is counted, and reaches no backend; a client without a header is served as before. The last
 * test puts HAProxy with {@code send-proxy-v2} in front of keepgate.
 */
class ProxyProtocolIT {
  private static final String REQUEST = "GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";

  @TempDir
  Path dir;

  private static JsonObject config(CountingBackend backend, String... trusted) {
    JsonObject config = GatewayHarness.config(backend.endpoint());
    config.getJsonObject("server").put("proxyProtocol",
        new JsonObject().put("enabled", true).put("trustedCidrs", new JsonArray(List.of((Object[]) trusted))));
    return config;
  }

  private static CountingBackend recordingBackend(AtomicReference<String> forwardedFor) throws Exception {
    CountingBackend backend = CountingBackend.start();
    backend.handler(request -> {
      forwardedFor.set(request.getHeader("X-Forwarded-For"));
      request.response().end("ok");
    });
    return backend;
  }

  /** A v2 header for a TCP4 client {@code source}:{@code port} to 10.0.0.1:8080. */
  private static byte[] v2Header(String source, int port) throws Exception {
    ByteBuffer header = ByteBuffer.allocate(28);
    header.put(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A});
    header.put((byte) 0x21); // version 2, PROXY
    header.put((byte) 0x11); // TCP over IPv4
    header.putShort((short) 12);
    header.put(java.net.InetAddress.getByName(source).getAddress()); // an address literal: no lookup
    header.put(new byte[] {10, 0, 0, 1});
    header.putShort((short) port).putShort((short) 8080);
    return header.array();
  }

  /** Sends {@code bytes} on a new connection and reads until keepgate closes it. */
  private static String exchange(int port, byte[]... bytes) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      for (byte[] chunk : bytes) {
        socket.getOutputStream().write(chunk);
      }
      ByteArrayOutputStream in = new ByteArrayOutputStream();
      try {
        socket.getInputStream().transferTo(in);
      } catch (IOException reset) {
        // a refused header may end in a reset: what was read is the answer
      }
      return in.toString(StandardCharsets.ISO_8859_1);
    }
  }

  private static byte[] ascii(String text) {
    return text.getBytes(StandardCharsets.US_ASCII);
  }

  @Test
  void aTrustedHeaderGivesTheBackendTheRealClient() throws Exception {
    AtomicReference<String> forwardedFor = new AtomicReference<>();
    try (CountingBackend backend = recordingBackend(forwardedFor);
        GatewayHarness gateway = GatewayHarness.start(config(backend, "127.0.0.0/8"))) {
      assertTrue(exchange(gateway.port(), ascii("PROXY TCP4 203.0.113.7 10.0.0.1 51234 8080\r\n" + REQUEST))
          .startsWith("HTTP/1.1 200"));
      assertEquals("203.0.113.7", forwardedFor.get(), "v1");

      assertTrue(exchange(gateway.port(), v2Header("198.51.100.9", 40000), ascii(REQUEST)).startsWith("HTTP/1.1 200"));
      assertEquals("198.51.100.9", forwardedFor.get(), "v2");

      assertTrue(exchange(gateway.port(), ascii("PROXY TCP4 192.0.2.1 10.0.0.1 1 2\r\n"), ascii(REQUEST))
          .startsWith("HTTP/1.1 200"), "the header and the request in separate writes");
      assertEquals("192.0.2.1", forwardedFor.get());

      assertTrue(exchange(gateway.port(), ascii(REQUEST)).startsWith("HTTP/1.1 200"), "no header: served as before");
      assertEquals("127.0.0.1", forwardedFor.get());
      assertEquals(3.0, gateway.metric("keepgate_proxy_protocol_headers_total", "result=\"accepted\""));
    }
  }

  @Test
  void untrustedOrMalformedHeadersCloseTheConnectionAndReachNoBackend() throws Exception {
    AtomicReference<String> forwardedFor = new AtomicReference<>();
    try (CountingBackend backend = recordingBackend(forwardedFor)) {
      try (GatewayHarness gateway = GatewayHarness.start(config(backend, "10.0.0.0/8"))) {
        assertEquals("", exchange(gateway.port(), ascii("PROXY TCP4 203.0.113.7 10.0.0.1 51234 8080\r\n" + REQUEST)));
        assertEquals("", exchange(gateway.port(), v2Header("203.0.113.7", 1), ascii(REQUEST)));
        Await.until("both counted as untrusted", Duration.ofSeconds(5),
            () -> gateway.metric("keepgate_proxy_protocol_headers_total", "result=\"untrusted\"") == 2.0);
        assertEquals(0, backend.requests(), "a forged client address never reaches a backend");
        assertTrue(exchange(gateway.port(), ascii(REQUEST)).startsWith("HTTP/1.1 200"), "no header: served");
      }
      try (GatewayHarness gateway = GatewayHarness.start(config(backend, "127.0.0.0/8"))) {
        assertEquals("", exchange(gateway.port(), ascii("PROXY TCP4 not-an-address 10.0.0.1 1 2\r\n" + REQUEST)));
        Await.until("counted as malformed", Duration.ofSeconds(5),
            () -> gateway.metric("keepgate_proxy_protocol_headers_total", "result=\"malformed\"") == 1.0);
        assertEquals(1, backend.requests(), "only the request without a header reached the backend");
      }
    }
  }

  @Test
  void theHeaderPrecedesTlsOnTheTlsListener() throws Exception {
    TestCertificates.Issued certificate = TestCertificates.issue(dir, "gateway.example.test");
    AtomicReference<String> forwardedFor = new AtomicReference<>();
    try (CountingBackend backend = recordingBackend(forwardedFor)) {
      JsonObject config = config(backend, "127.0.0.0/8");
      config.getJsonObject("server").put("tls", new JsonObject().put("enabled", true).put("port", 0)
          .put("certificates", new JsonArray().add(new JsonObject()
              .put("certFile", certificate.certFile().toString()).put("keyFile", certificate.keyFile().toString()))));
      try (GatewayHarness gateway = GatewayHarness.start(config);
          Socket plain = new Socket("127.0.0.1", gateway.tlsPort())) {
        plain.getOutputStream().write(v2Header("198.51.100.20", 443));
        try (SSLSocket tls = (SSLSocket) certificate.trustingClient().getSocketFactory()
            .createSocket(plain, "gateway.example.test", gateway.tlsPort(), true)) {
          tls.setSoTimeout(10_000);
          tls.getOutputStream().write(ascii(REQUEST));
          String response = new String(tls.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
          assertTrue(response.startsWith("HTTP/1.1 200"), response);
        }
        assertEquals("198.51.100.20", forwardedFor.get());
      }
    }
  }

  @Test
  void behindHaproxyWithSendProxyV2TheBackendSeesTheRealClient() throws Exception {
    AtomicReference<String> forwardedFor = new AtomicReference<>();
    try (CountingBackend backend = recordingBackend(forwardedFor);
        GatewayHarness gateway = GatewayHarness.start(config(backend, "127.0.0.1/32"))) {
      int front;
      try (ServerSocket free = new ServerSocket(0)) {
        front = free.getLocalPort();
      }
      Path cfg = Files.writeString(dir.resolve("haproxy.cfg"), String.join("\n",
          "defaults", "  mode tcp", "  timeout connect 5s", "  timeout client 30s", "  timeout server 30s",
          "frontend in", "  bind 127.0.0.1:" + front, "  default_backend keepgate",
          "backend keepgate", "  server kg 127.0.0.1:" + gateway.port() + " send-proxy-v2", ""));
      Process haproxy = new ProcessBuilder("haproxy", "-db", "-f", cfg.toString()).redirectErrorStream(true)
          .redirectOutput(dir.resolve("haproxy.log").toFile()).start();
      try {
        Await.until("haproxy listens", Duration.ofSeconds(10), () -> {
          try (Socket probe = new Socket("127.0.0.1", front)) {
            return true;
          } catch (IOException e) {
            return false;
          }
        });
        // the client comes from 127.0.0.2 (all of 127/8 is local); keepgate's peer is HAProxy at 127.0.0.1
        try (Socket client = new Socket()) {
          client.bind(new InetSocketAddress("127.0.0.2", 0));
          client.connect(new InetSocketAddress("127.0.0.1", front));
          client.setSoTimeout(10_000);
          client.getOutputStream().write(ascii(REQUEST));
          String response = new String(client.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
          assertTrue(response.startsWith("HTTP/1.1 200"), response + Files.readString(dir.resolve("haproxy.log")));
        }
        assertEquals("127.0.0.2", forwardedFor.get());
      } finally {
        haproxy.destroy();
        haproxy.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}
