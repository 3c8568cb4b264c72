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

  /** A self-signed EC certificate for {@code names} (the first is also the CN), valid for a day, in {@code dir}. */
  public static Issued issue(Path dir, String... names) throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(256);
    KeyPair pair = generator.generateKeyPair();
    X500Name subject = new X500Name("CN=" + names[0]);
    Instant now = Instant.now();
    GeneralName[] san = new GeneralName[names.length];
    for (int i = 0; i < names.length; i++) {
      san[i] = new GeneralName(GeneralName.dNSName, names[i]);
    }
    X509Certificate certificate = new JcaX509CertificateConverter().getCertificate(
        new JcaX509v3CertificateBuilder(subject, BigInteger.valueOf(SERIAL.incrementAndGet()),
            Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(1))), subject,
            pair.getPublic())
            .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(san))
            .build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
    String stem = names[0].replace('*', '_');
    Path certFile = dir.resolve(stem + ".crt");
    Path keyFile = dir.resolve(stem + ".key");
    Files.writeString(certFile, pem(certificate));
    Files.writeString(keyFile, pem(new JcaPKCS8Generator(pair.getPrivate(), null).generate()));
    return new Issued(certFile, keyFile, certificate);
  }

  private static String pem(Object object) throws Exception {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(object);
    }
    return out.toString();
  }
}
