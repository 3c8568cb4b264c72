package io.keepgate.testing;

import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Self-signed certificates made in the test (BouncyCastle), written as PEM files: a certificate
 * and a PKCS#8 key per set of SAN DNS names. Nothing is committed. Test thread only.
 */
public final class TestCertificates {
  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

  /** One certificate: its PEM files and the certificate itself. */
  public record Issued(Path certFile, Path keyFile, X509Certificate certificate) {
    /** A client context that trusts this certificate only. */
    public SSLContext trustingClient() throws Exception {
      return trusting(this);
    }
  }

  /** A client context that trusts these certificates only. */
  public static SSLContext trusting(Issued... issued) throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    for (int i = 0; i < issued.length; i++) {
      trust.setCertificateEntry("keepgate-test-" + i, issued[i].certificate());
    }
    TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, factory.getTrustManagers(), null);
    return context;
  }

  private TestCertificates() {}

  /** How the private key is written: PKCS#8, or the older OpenSSL form of its algorithm. */
  public enum KeyForm {
    /** {@code BEGIN PRIVATE KEY}. */
    PKCS8,
    /** {@code BEGIN RSA PRIVATE KEY} or {@code BEGIN EC PRIVATE KEY}. */
    TRADITIONAL
  }

  /** A self-signed EC certificate for {@code names} (the first is also the CN), valid for a day, in {@code dir}. */
  public static Issued issue(Path dir, String... names) throws Exception {
    return issue(dir, "EC", KeyForm.PKCS8, names);
  }

  /** A self-signed certificate with an {@code algorithm} ("EC" or "RSA") key written in {@code form}, valid for a day. */
  public static Issued issue(Path dir, String algorithm, KeyForm form, String... names) throws Exception {
    return issue(dir, algorithm, form, Instant.now().plus(Duration.ofDays(1)), names);
  }

  /** A self-signed EC certificate that expired an hour ago. */
  public static Issued issueExpired(Path dir, String... names) throws Exception {
    return issue(dir, "EC", KeyForm.PKCS8, Instant.now().minus(Duration.ofHours(1)), names);
  }

  private static Issued issue(Path dir, String algorithm, KeyForm form, Instant notAfter, String... names)
      throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
    generator.initialize(algorithm.equals("RSA") ? 2048 : 256);
    KeyPair pair = generator.generateKeyPair();
    X500Name subject = new X500Name("CN=" + names[0]);
    Instant now = Instant.now();
    GeneralName[] san = new GeneralName[names.length];
    for (int i = 0; i < names.length; i++) {
      san[i] = new GeneralName(GeneralName.dNSName, names[i]);
    }
    X509Certificate certificate = new JcaX509CertificateConverter().getCertificate(
        new JcaX509v3CertificateBuilder(subject, BigInteger.valueOf(SERIAL.incrementAndGet()),
            Date.from(now.minus(Duration.ofDays(2))), Date.from(notAfter), subject,
            pair.getPublic())
            .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(san))
            .build(new JcaContentSignerBuilder(algorithm.equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA")
                .build(pair.getPrivate())));
    String stem = names[0].replace('*', '_');
    Path certFile = dir.resolve(stem + ".crt");
    Path keyFile = dir.resolve(stem + ".key");
    Files.writeString(certFile, pem(certificate));
    Files.writeString(keyFile, pem(new JcaPKCS8Generator(pair.getPrivate(), null).generate()));
    if (form == KeyForm.TRADITIONAL) {
      toTraditional(keyFile, algorithm);
    }
    return new Issued(certFile, keyFile, certificate);
  }

  /** Rewrites a PKCS#8 key in the older form, as users' tools write it: {@code openssl rsa -traditional} or {@code openssl ec}. */
  private static void toTraditional(Path keyFile, String algorithm) throws Exception {
    Path out = keyFile.resolveSibling(keyFile.getFileName() + ".traditional");
    List<String> command = algorithm.equals("RSA")
        ? List.of("openssl", "rsa", "-traditional", "-in", keyFile.toString(), "-out", out.toString())
        : List.of("openssl", "ec", "-in", keyFile.toString(), "-out", out.toString());
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
    }
    Files.move(out, keyFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  private static String pem(Object object) throws Exception {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(object);
    }
    return out.toString();
  }
}
