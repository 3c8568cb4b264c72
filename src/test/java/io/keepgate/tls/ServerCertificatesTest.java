package io.keepgate.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.config.ConfigException;
import io.keepgate.config.TlsConfig;
import io.keepgate.testing.TestCertificates;
import io.keepgate.testing.TestCertificates.KeyForm;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading the listener's certificates from PEM files: key forms, SNI names, and what is refused. */
class ServerCertificatesTest {
  private static final List<String> HTTP_1_1 = List.of("http/1.1");

  @TempDir
  Path dir;

  private static TlsConfig config(TestCertificates.Issued... issued) {
    return new TlsConfig(true, 0, List.of(issued).stream()
        .map(i -> new TlsConfig.CertificateFiles(i.certFile(), i.keyFile())).toList(), TlsConfig.DEFAULT_PROTOCOLS, TlsConfig.DEFAULT_CIPHERS, false);
  }

  @Test
  void readsPkcs8AndTheOlderRsaAndEcKeyFormsAndMapsSanNames() throws Exception {
    TestCertificates.Issued rsa = TestCertificates.issue(dir, "RSA", KeyForm.TRADITIONAL, "rsa.example.test");
    TestCertificates.Issued ec = TestCertificates.issue(dir, "EC", KeyForm.TRADITIONAL, "*.ec.example.test");
    TestCertificates.Issued pkcs8 = TestCertificates.issue(dir, "RSA", KeyForm.PKCS8, "pkcs8.example.test");
    assertTrue(Files.readString(rsa.keyFile()).contains("BEGIN RSA PRIVATE KEY"));
    assertTrue(Files.readString(ec.keyFile()).contains("BEGIN EC PRIVATE KEY"));

    for (SslProvider provider : List.of(SslProvider.JDK, ServerCertificates.preferredProvider())) {
      ServerCertificates certificates = ServerCertificates.read(config(rsa, ec, pkcs8), provider, HTTP_1_1);
      assertEquals(List.of("rsa.example.test", "*.ec.example.test", "pkcs8.example.test"),
          certificates.loaded().stream().map(ServerCertificates.Loaded::name).toList());
      assertSame(certificates.contextFor("rsa.example.test"), certificates.contextFor(null), "the first is the default");
      assertSame(certificates.contextFor("rsa.example.test"), certificates.contextFor("unknown.example.test"));
      assertNotSame(certificates.contextFor("rsa.example.test"), certificates.contextFor("api.ec.example.test"));
      assertNotSame(certificates.contextFor("api.ec.example.test"), certificates.contextFor("pkcs8.example.test"));
    }
  }

  @Test
  void bothEnginesOfferTheTls13SuitesAndExactlyTheConfiguredTls12Ones() throws Exception {
    TestCertificates.Issued certificate = TestCertificates.issue(dir, "gateway.example.test");
    List<String> chacha = List.of("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
    for (List<String> ciphers : List.of(TlsConfig.DEFAULT_CIPHERS, chacha)) {
      TlsConfig config = new TlsConfig(true, 0, List.of(new TlsConfig.CertificateFiles(certificate.certFile(),
          certificate.keyFile())), TlsConfig.DEFAULT_PROTOCOLS, ciphers, false);
      for (SslProvider provider : List.of(SslProvider.JDK, ServerCertificates.preferredProvider())) {
        SSLEngine engine = ServerCertificates.read(config, provider, HTTP_1_1).contextFor(null)
            .newEngine(ByteBufAllocator.DEFAULT);
        try {
          Set<String> expected = new HashSet<>(TlsConfig.TLS13_CIPHERS);
          expected.addAll(ciphers);
          assertEquals(expected, Set.of(engine.getEnabledCipherSuites()), provider + " with " + ciphers);
        } finally {
          ReferenceCountUtil.release(engine); // an OpenSSL engine holds native memory
        }
      }
    }
  }

  @Test
  void everyBrokenPairIsReportedWithItsPath() throws Exception {
    TestCertificates.Issued one = TestCertificates.issue(dir, "one.example.test");
    TestCertificates.Issued two = TestCertificates.issue(dir, "two.example.test");
    Path garbage = Files.writeString(dir.resolve("garbage.pem"), "not PEM at all\n");
    TlsConfig broken = new TlsConfig(true, 0, List.of(
        new TlsConfig.CertificateFiles(one.certFile(), two.keyFile()),
        new TlsConfig.CertificateFiles(garbage, one.keyFile()),
        new TlsConfig.CertificateFiles(two.certFile(), garbage)), TlsConfig.DEFAULT_PROTOCOLS, TlsConfig.DEFAULT_CIPHERS, false);
    ConfigException refused = assertThrows(ConfigException.class, () -> ServerCertificates.read(broken, SslProvider.JDK, HTTP_1_1));
    assertEquals(3, refused.problems().size(), refused.problems().toString());
    assertEquals("server.tls.certificates[0].keyFile: does not match the certificate in certFile", refused.problems().get(0));
    assertTrue(refused.problems().get(1).startsWith("server.tls.certificates[1].certFile: "), refused.problems().get(1));
    assertTrue(refused.problems().get(2).startsWith("server.tls.certificates[2].keyFile: "), refused.problems().get(2));
  }
}
