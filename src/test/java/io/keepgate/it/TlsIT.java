package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.keepgate.config.ConfigException;
import io.keepgate.testing.Await;
import io.keepgate.testing.CountingBackend;
import io.keepgate.testing.Curl;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.RawClient;
import io.keepgate.testing.TestCertificates;
import io.keepgate.tls.ServerCertificates;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The claim under test: {@code server.tls} terminates client TLS on its own listener beside the
 * cleartext one, picks the certificate by SNI against each certificate's SAN names (wildcards
 * included, the first certificate the default, counted when it serves a name it does not cover),
 * offers AEAD suites with forward secrecy only, tells the backend {@code X-Forwarded-Proto: https},
 * and counts every handshake by result; a client that speaks cleartext to it never reaches a
 * backend. Certificates rotate as a Kubernetes Secret update swaps them, and an expired one is
 * served with a warning and a negative expiry. The clients are the JDK's own TLS stack on a
 * socket, curl and {@code openssl s_client}.
 */
class TlsIT {
  @TempDir
  Path dir;

  /** What a TLS client saw: the certificate presented, the negotiated protocol and the response. */
  private record Seen(X509Certificate certificate, String protocol, String applicationProtocol, String response) {}

  @Test
  void terminatesTlsAndPicksTheCertificateBySni() throws Exception {
    TestCertificates.Issued fallback = TestCertificates.issue(dir, "gateway.example.test");
    TestCertificates.Issued shop = TestCertificates.issue(dir, "*.shop.example.test", "shop.example.test");
    try (CountingBackend backend = CountingBackend.start()) {
      AtomicReference<String> forwardedProto = new AtomicReference<>();
      backend.handler(request -> {
        forwardedProto.set(request.getHeader("X-Forwarded-Proto"));
        request.response().end("ok");
      });
      JsonObject config = GatewayHarness.config(backend.endpoint());
      config.getJsonObject("server").put("tls", tls(fallback, shop));
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        Seen www = get(gateway.tlsPort(), "www.shop.example.test", shop.trustingClient());
        assertEquals(shop.certificate(), www.certificate(), "a wildcard SAN matches");
        assertTrue(www.response().startsWith("HTTP/1.1 200") && www.response().endsWith("ok"), www.response());
        assertEquals("https", forwardedProto.get());
        assertEquals("TLSv1.3", www.protocol());
        assertEquals("http/1.1", www.applicationProtocol(), "ALPN offers http/1.1");

        assertEquals(shop.certificate(), get(gateway.tlsPort(), "shop.example.test", shop.trustingClient()).certificate());
        assertEquals(fallback.certificate(), get(gateway.tlsPort(), "other.example.test", fallback.trustingClient())
            .certificate(), "an unknown name gets the first certificate");
        assertEquals(fallback.certificate(), get(gateway.tlsPort(), null, fallback.trustingClient()).certificate(),
            "no SNI gets the first certificate");

        try (RawClient cleartext = new RawClient(gateway.port())) {
          cleartext.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n");
          assertEquals(200, cleartext.readResponse().status());
        }
        assertEquals("http", forwardedProto.get(), "the cleartext listener still serves, as http");
        assertEquals(4.0, gateway.metric("keepgate_tls_handshakes_total", "side=\"client\"", "result=\"success\""));
        assertEquals(2.0, gateway.metric("keepgate_tls_sni_total", "result=\"matched\""), "www.shop. and shop.");
        assertEquals(1.0, gateway.metric("keepgate_tls_sni_total", "result=\"unknown\""),
            "other.example.test got the default certificate, and it shows");
        assertEquals(1.0, gateway.metric("keepgate_tls_sni_total", "result=\"none\""), "the client without SNI");

        String effective = gateway.admin("/admin/config").body();
        assertTrue(effective.contains(shop.keyFile().toString()) && !effective.contains("PRIVATE KEY"),
            "/admin/config names the key file, never its content");

        // curl, as users check a listener: SNI from --resolve, trust from --cacert
        String curlOutput = Curl.run("--cacert", shop.certFile().toString(),
            "--resolve", "www.shop.example.test:" + gateway.tlsPort() + ":127.0.0.1",
            "https://www.shop.example.test:" + gateway.tlsPort() + "/");
        assertEquals("ok", curlOutput, "curl verified the wildcard certificate for its SNI name");
      }
    }
  }

  @Test
  void cleartextSpokenToTheTlsListenerIsCountedAndNeverReachesABackend() throws Exception {
    TestCertificates.Issued certificate = TestCertificates.issue(dir, "gateway.example.test");
    try (CountingBackend backend = CountingBackend.start()) {
      JsonObject config = GatewayHarness.config(backend.endpoint());
      config.getJsonObject("server").put("tls", tls(certificate));
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        try (Socket plain = new Socket("127.0.0.1", gateway.tlsPort())) {
          plain.setSoTimeout(10_000);
          plain.getOutputStream().write("GET / HTTP/1.1\r\nHost: test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          byte[] answer = plain.getInputStream().readAllBytes(); // until keepgate closes (bounded by the timeout)
          assertTrue(answer.length < 16, "at most a TLS alert comes back, never HTTP: " + answer.length + " bytes");
        }
        Await.until("the failed handshake is counted", Duration.ofSeconds(5),
            () -> gateway.metric("keepgate_tls_handshakes_total", "result=\"bad_record\"") == 1.0);
        assertEquals(0, backend.requests(), "nothing reached the backend");
        assertEquals(0.0, gateway.metric("keepgate_tls_sni_total"), "cleartext has no SNI name to count");
      }
    }
  }

  @Test
  void aKeyThatDoesNotBelongToItsCertificateIsRefusedWithItsPath() throws Exception {
    TestCertificates.Issued one = TestCertificates.issue(dir, "one.example.test");
    TestCertificates.Issued other = TestCertificates.issue(dir, "other.example.test");
    JsonObject config = GatewayHarness.config("127.0.0.1:9");
    config.getJsonObject("server").put("tls", new JsonObject().put("enabled", true).put("port", 0)
        .put("certificates", new JsonArray().add(new JsonObject()
            .put("certFile", one.certFile().toString()).put("keyFile", other.keyFile().toString()))));
    ConfigException refused = assertThrows(ConfigException.class, () -> GatewayHarness.start(config).close());
    assertEquals(List.of("server.tls.certificates[0].keyFile: does not match the certificate in certFile"),
        refused.problems());
  }

  @Test
  void aKubernetesSecretUpdateRotatesUnderLoadKeepsOpenConnectionsAndABrokenPairKeepsTheOldOne() throws Exception {
    TestCertificates.Issued first = TestCertificates.issue(Files.createDirectories(dir.resolve("first")),
        "gateway.example.test");
    TestCertificates.Issued second = TestCertificates.issue(Files.createDirectories(dir.resolve("second")),
        "gateway.example.test");
    SecretVolume secret = SecretVolume.mount(Files.createDirectories(dir.resolve("secret")), first);
    try (CountingBackend backend = CountingBackend.start()) {
      JsonObject config = GatewayHarness.config(backend.endpoint());
      config.getJsonObject("server").put("tls", new JsonObject().put("enabled", true).put("port", 0)
          .put("certificates", new JsonArray().add(new JsonObject()
              .put("certFile", secret.certFile().toString()).put("keyFile", secret.keyFile().toString()))));
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        SSLContext trustsBoth = TestCertificates.trusting(first, second);
        AtomicInteger failures = new AtomicInteger();
        AtomicInteger served = new AtomicInteger();
        AtomicReference<X509Certificate> lastSeen = new AtomicReference<>();
        AtomicBoolean running = new AtomicBoolean(true);
        Thread load = new Thread(() -> {
          while (running.get()) {
            try {
              Seen seen = get(gateway.tlsPort(), "gateway.example.test", trustsBoth); // a new handshake each time
              if (seen.response().startsWith("HTTP/1.1 200")) {
                served.incrementAndGet();
                lastSeen.set(seen.certificate());
              } else {
                failures.incrementAndGet();
              }
            } catch (Exception e) {
              failures.incrementAndGet();
            }
          }
        });
        try (SSLSocket keptAlive = open(gateway.tlsPort(), "gateway.example.test", trustsBoth)) {
          assertEquals(200, exchange(keptAlive).status(), "the kept-alive connection serves before the update");
          load.start();
          try {
            Await.until("load running", Duration.ofSeconds(10), () -> served.get() > 20);
            secret.update(second.certFile(), second.keyFile());
            Await.until("new handshakes present the new certificate", Duration.ofSeconds(10),
                () -> second.certificate().equals(lastSeen.get()));
            int servedAfterSwap = served.get();
            Await.until("load goes on", Duration.ofSeconds(10), () -> served.get() > servedAfterSwap + 20);
          } finally {
            running.set(false);
            load.join(10_000);
          }
          assertEquals(0, failures.get(), "no request failed across the rotation; served " + served.get());
          assertEquals(0.0, gateway.metric("keepgate_tls_certificate_reloads_total", "result=\"rejected\""),
              "the ..data swap is one change: never a certificate read before it with a key read after");
          assertTrue(gateway.metric("keepgate_tls_certificate_reloads_total", "result=\"applied\"") >= 1.0);

          RawClient.Response afterSwap = exchange(keptAlive);
          assertEquals(200, afterSwap.status(), "the connection opened before the update still serves: " + afterSwap.head());
          assertEquals(first.certificate(), keptAlive.getSession().getPeerCertificates()[0],
              "on the certificate it was opened with");
        }

        secret.update(second.certFile(), first.keyFile()); // a Secret whose key belongs to another certificate
        Await.until("the broken pair is rejected", Duration.ofSeconds(10),
            () -> gateway.metric("keepgate_tls_certificate_reloads_total", "result=\"rejected\"") >= 1.0);
        assertEquals(second.certificate(), get(gateway.tlsPort(), "gateway.example.test", trustsBoth).certificate(),
            "the previous certificate keeps serving");
        assertTrue(gateway.metric("keepgate_tls_certificate_expiry_seconds", "name=\"gateway.example.test\"") > 3600,
            "a day-long certificate expires in more than an hour");
      }
    }
  }

  /**
   * A directory as the kubelet mounts a Secret: {@code tls.crt} and {@code tls.key} are symlinks
   * through {@code ..data}, itself a symlink to a timestamped directory. An update writes a new
   * timestamped directory, renames a new {@code ..data} link over the old one (one atomic step) and
   * removes the old directory.
   */
  private record SecretVolume(Path dir, AtomicInteger version) {
    static SecretVolume mount(Path dir, TestCertificates.Issued issued) throws Exception {
      SecretVolume volume = new SecretVolume(dir, new AtomicInteger());
      volume.update(issued.certFile(), issued.keyFile());
      Files.createSymbolicLink(volume.certFile(), Path.of("..data", "tls.crt"));
      Files.createSymbolicLink(volume.keyFile(), Path.of("..data", "tls.key"));
      return volume;
    }

    Path certFile() {
      return dir.resolve("tls.crt");
    }

    Path keyFile() {
      return dir.resolve("tls.key");
    }

    void update(Path certFile, Path keyFile) throws Exception {
      Path data = dir.resolve("..data");
      Path previous = Files.isSymbolicLink(data) ? dir.resolve(Files.readSymbolicLink(data)) : null;
      Path next = Files.createDirectory(dir.resolve(String.format("..2026_01_01_00_00_%02d.000000001", version.incrementAndGet())));
      Files.copy(certFile, next.resolve("tls.crt"));
      Files.copy(keyFile, next.resolve("tls.key"));
      Path staged = Files.createSymbolicLink(dir.resolve("..data_tmp"), next.getFileName());
      Files.move(staged, data, StandardCopyOption.ATOMIC_MOVE); // rename(2): the old link is replaced, never missing
      if (previous != null) {
        try (var files = Files.list(previous)) {
          for (Path file : files.toList()) {
            Files.delete(file);
          }
        }
        Files.delete(previous);
      }
    }
  }

  @Test
  void anExpiredCertificateIsServedWithAWarningAndANegativeExpiryApartFromAnotherForTheSameName() throws Exception {
    TestCertificates.Issued expired = TestCertificates.issueExpired(Files.createDirectories(dir.resolve("old")),
        "gateway.example.test");
    TestCertificates.Issued renewed = TestCertificates.issue(Files.createDirectories(dir.resolve("new")),
        "gateway.example.test");
    Logger logger = (Logger) LoggerFactory.getLogger(ServerCertificates.class);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    logger.addAppender(logged);
    try (CountingBackend backend = CountingBackend.start()) {
      JsonObject config = GatewayHarness.config(backend.endpoint());
      config.getJsonObject("server").put("tls", tls(expired, renewed));
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        assertEquals(expired.certificate(), get(gateway.tlsPort(), null, trustingAnything()).certificate(),
            "served as the default, as NGINX would: the client decides");
        double expiredSeconds = gateway.metric("keepgate_tls_certificate_expiry_seconds",
            "name=\"gateway.example.test\"", "file=\"" + expired.certFile() + "\"");
        assertTrue(expiredSeconds < -3000 && expiredSeconds > -4000, "expired an hour ago: " + expiredSeconds);
        double renewedSeconds = gateway.metric("keepgate_tls_certificate_expiry_seconds",
            "name=\"gateway.example.test\"", "file=\"" + renewed.certFile() + "\"");
        assertTrue(renewedSeconds > 80_000, "the other certificate for the name has its own series: " + renewedSeconds);
      }
    } finally {
      logger.detachAppender(logged);
    }
    assertEquals(List.of("server.tls.certificates[0]: the certificate for gateway.example.test expired on "
            + expired.certificate().getNotAfter().toInstant() + "; serving it anyway (clients will refuse it)"),
        logged.list.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage).toList());
  }

  @Test
  void onlyAeadSuitesWithForwardSecrecyAreOfferedAndAClientWithoutOneIsRefusedAndCounted() throws Exception {
    // an RSA certificate: with it, the engine's own list would accept RSA key exchange and CBC
    TestCertificates.Issued certificate = TestCertificates.issue(dir, "RSA", TestCertificates.KeyForm.PKCS8,
        "gateway.example.test");
    try (CountingBackend backend = CountingBackend.start()) {
      JsonObject config = GatewayHarness.config(backend.endpoint());
      config.getJsonObject("server").put("tls", tls(certificate));
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        for (String weak : List.of("AES128-SHA", "AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA")) {
          String refused = sClient(gateway.tlsPort(), "-tls1_2", "-cipher", weak);
          assertTrue(refused.contains("Cipher is (NONE)"), weak + " is refused: " + refused);
        }
        Await.until("the refusals are counted", Duration.ofSeconds(5),
            () -> gateway.metric("keepgate_tls_handshakes_total", "result=\"no_shared_protocol_or_cipher\"") == 3.0);
        String tls12 = sClient(gateway.tlsPort(), "-tls1_2");
        assertTrue(tls12.contains("Cipher is ECDHE-RSA-AES128-GCM-SHA256"), "the first of the default list: " + tls12);
      }

      config.getJsonObject("server").getJsonObject("tls")
          .put("ciphers", new JsonArray().add("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"));
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        String chacha = sClient(gateway.tlsPort(), "-tls1_2");
        assertTrue(chacha.contains("Cipher is ECDHE-RSA-CHACHA20-POLY1305"), "server.tls.ciphers narrows TLS 1.2: " + chacha);
        String gcm = sClient(gateway.tlsPort(), "-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256");
        assertTrue(gcm.contains("Cipher is (NONE)"), "a suite left out is refused: " + gcm);
        String tls13 = sClient(gateway.tlsPort(), "-tls1_3");
        assertTrue(tls13.contains("New, TLSv1.3"), "TLS 1.3 keeps its suites: " + tls13);
      }
    }
  }

  @Test
  void theCleartextListenerCanRedirectToHttps() throws Exception {
    TestCertificates.Issued certificate = TestCertificates.issue(dir, "shop.example.test");
    try (CountingBackend backend = CountingBackend.start()) {
      JsonObject config = GatewayHarness.config(backend.endpoint());
      config.getJsonObject("server").put("tls", tls(certificate).put("redirectCleartext", true));
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        try (RawClient client = new RawClient(gateway.port())) {
          client.send("GET /cart?item=7 HTTP/1.1\r\nHost: shop.example.test:8080\r\n\r\n");
          RawClient.Response response = client.readResponse();
          assertEquals(308, response.status());
          assertEquals("https://shop.example.test:" + gateway.tlsPort() + "/cart?item=7", response.header("location"));
        }
        assertTrue(get(gateway.tlsPort(), "shop.example.test", certificate.trustingClient()).response()
            .startsWith("HTTP/1.1 200"), "the TLS listener serves");
        assertEquals(1, backend.requests(), "only the request over TLS reached the backend");
      }
    }
  }

  @Test
  void aClientThatNeverFinishesItsHandshakeIsCutOffAtTheHeaderReadTimeout() throws Exception {
    TestCertificates.Issued certificate = TestCertificates.issue(dir, "gateway.example.test");
    try (CountingBackend backend = CountingBackend.start()) {
      JsonObject config = GatewayHarness.config(backend.endpoint());
      config.getJsonObject("server").put("headerReadTimeoutMs", 500).put("tls", tls(certificate));
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        try (Socket silent = new Socket("127.0.0.1", gateway.tlsPort())) {
          silent.setSoTimeout(10_000);
          long start = System.nanoTime();
          assertEquals(-1, silent.getInputStream().read(), "closed without a byte");
          long millis = Duration.ofNanos(System.nanoTime() - start).toMillis();
          assertTrue(millis >= 400 && millis < 5_000, "cut off after the 500 ms header-read timeout: " + millis + " ms");
        }
        Await.until("counted as a timeout", Duration.ofSeconds(5),
            () -> gateway.metric("keepgate_tls_handshakes_total", "result=\"timeout\"") == 1.0);
      }
    }
  }

  @Test
  void opensslNegotiatesTls12AndAlpnAndIsRefusedTls11() throws Exception {
    TestCertificates.Issued certificate = TestCertificates.issue(dir, "gateway.example.test");
    try (CountingBackend backend = CountingBackend.start()) {
      JsonObject config = GatewayHarness.config(backend.endpoint());
      config.getJsonObject("server").put("tls", tls(certificate));
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        String tls12 = sClient(gateway.tlsPort(), "-tls1_2", "-alpn", "http/1.1", "-servername", "gateway.example.test");
        assertTrue(tls12.contains("Protocol  : TLSv1.2") || tls12.contains("New, TLSv1.2"), tls12);
        assertTrue(tls12.contains("ALPN protocol: http/1.1"), tls12);
        Path session = dir.resolve("session.pem");
        // a request and its response carry the TLS 1.3 session ticket, which comes after the handshake
        String first = sClient(gateway.tlsPort(), "-ign_eof", "-sess_out", session.toString());
        assertTrue(first.contains("New, TLSv1.3") && Files.exists(session), "a session ticket was issued: " + first);
        String again = sClient(gateway.tlsPort(), "-ign_eof", "-sess_in", session.toString());
        assertTrue(again.contains("Reused, TLSv1.3"), "a returning client resumes: " + again);
        Path session12 = dir.resolve("session12.pem");
        sClient(gateway.tlsPort(), "-tls1_2", "-ign_eof", "-sess_out", session12.toString());
        String again12 = sClient(gateway.tlsPort(), "-tls1_2", "-ign_eof", "-sess_in", session12.toString());
        assertTrue(again12.contains("Reused, TLSv1.2"), "a returning TLS 1.2 client resumes: " + again12);
        String tls11 = sClient(gateway.tlsPort(), "-tls1_1");
        assertTrue(tls11.contains("alert protocol version") && tls11.contains("Cipher is (NONE)"),
            "TLS 1.1 is refused: " + tls11);
        Await.until("the refusal is counted", Duration.ofSeconds(5),
            () -> gateway.metric("keepgate_tls_handshakes_total", "side=\"client\"") >= 6.0
                && gateway.metric("keepgate_tls_handshakes_total", "result=\"success\"") == 5.0);
      }
    }
  }

  private static byte[] ascii(String text) {
    return text.getBytes(StandardCharsets.US_ASCII);
  }

  /** {@code openssl s_client} against 127.0.0.1:port with {@code args}; its stdout and stderr. */
  private static String sClient(int port, String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    try (var stdin = process.getOutputStream()) { // then EOF: s_client ends (with -ign_eof, once keepgate closes)
      stdin.write(ascii("GET / HTTP/1.1\r\nHost: gateway.example.test\r\nConnection: close\r\n\r\n"));
    }
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "openssl s_client finished");
    return output;
  }

  private static JsonObject tls(TestCertificates.Issued... certificates) {
    JsonArray list = new JsonArray();
    for (TestCertificates.Issued c : certificates) {
      list.add(new JsonObject().put("certFile", c.certFile().toString()).put("keyFile", c.keyFile().toString()));
    }
    return new JsonObject().put("enabled", true).put("port", 0).put("certificates", list);
  }

  /** A client that accepts any certificate, for one that no trust store would (it expired). */
  private static SSLContext trustingAnything() throws Exception {
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, new TrustManager[] {new X509TrustManager() {
      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType) {}

      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType) {}

      @Override
      public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    }}, null);
    return context;
  }

  /** A TLS connection to 127.0.0.1 with {@code serverName} as SNI, handshake done, ALPN http/1.1. */
  private static SSLSocket open(int port, String serverName, SSLContext context) throws Exception {
    SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port);
    socket.setSoTimeout(10_000);
    SSLParameters parameters = socket.getSSLParameters();
    parameters.setServerNames(List.of(new SNIHostName(serverName)));
    parameters.setApplicationProtocols(new String[] {"http/1.1"});
    socket.setSSLParameters(parameters);
    socket.startHandshake();
    return socket;
  }

  /** One keep-alive GET on an open connection; the response is framed by its Content-Length. */
  private static RawClient.Response exchange(SSLSocket socket) throws Exception {
    socket.getOutputStream().write(ascii("GET / HTTP/1.1\r\nHost: test\r\n\r\n"));
    String head = RawClient.readHead(socket.getInputStream());
    int length = Integer.parseInt(new RawClient.Response(head, "").header("content-length").trim());
    return new RawClient.Response(head, new String(socket.getInputStream().readNBytes(length), StandardCharsets.US_ASCII));
  }

  /** One GET over TLS to 127.0.0.1, with {@code serverName} as SNI (none when null), ALPN http/1.1. */
  private static Seen get(int port, String serverName, SSLContext context) throws Exception {
    try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      SSLParameters parameters = socket.getSSLParameters();
      parameters.setServerNames(serverName == null ? List.of() : List.of(new SNIHostName(serverName)));
      parameters.setEndpointIdentificationAlgorithm(null); // the test trusts exactly the certificate it expects
      parameters.setApplicationProtocols(new String[] {"http/1.1"});
      socket.setSSLParameters(parameters);
      socket.startHandshake();
      socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream response = new ByteArrayOutputStream();
      in.transferTo(response);
      return new Seen((X509Certificate) socket.getSession().getPeerCertificates()[0], socket.getSession().getProtocol(),
          socket.getApplicationProtocol(), response.toString(StandardCharsets.US_ASCII));
    }
  }
}
