package io.keepgate.tls;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * Certificate chains and private keys from PEM files, read with BouncyCastle's parser: keys in
 * PKCS#8 ({@code BEGIN PRIVATE KEY}) and in the older RSA and EC forms ({@code BEGIN RSA PRIVATE
 * KEY}, {@code BEGIN EC PRIVATE KEY}) that OpenSSL and many tools still write. Encrypted keys are
 * refused: the key file's permissions protect it, as for NGINX.
 *
 * <p>Threading: stateless; blocking file I/O, never on an event loop.
 */
final class PemFiles {
  private PemFiles() {}

  /** Every certificate in the file, leaf first. */
  static List<X509Certificate> chain(Path file) throws IOException, CertificateException {
    List<X509Certificate> chain = new ArrayList<>();
    try (PEMParser parser = parser(file)) {
      JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
      for (Object item = parser.readObject(); item != null; item = parser.readObject()) {
        if (item instanceof X509CertificateHolder holder) {
          chain.add(converter.getCertificate(holder));
        }
      }
    }
    if (chain.isEmpty()) {
      throw new CertificateException("no BEGIN CERTIFICATE block");
    }
    return chain;
  }

  /** The first private key in the file. */
  static PrivateKey privateKey(Path file) throws IOException {
    try (PEMParser parser = parser(file)) {
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
      for (Object item = parser.readObject(); item != null; item = parser.readObject()) {
        if (item instanceof PrivateKeyInfo info) {
          return converter.getPrivateKey(info);
        }
        if (item instanceof PEMKeyPair pair) {
          return converter.getPrivateKey(pair.getPrivateKeyInfo()); // an EC key may come without its public half
        }
      }
    }
    throw new IOException("no unencrypted private key (BEGIN PRIVATE KEY, BEGIN RSA PRIVATE KEY or BEGIN EC PRIVATE KEY)");
  }

  private static PEMParser parser(Path file) throws IOException {
    Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
    return new PEMParser(reader);
  }
}
