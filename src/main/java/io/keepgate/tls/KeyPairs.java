package io.keepgate.tls;

import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;

/**
 * Whether a private key belongs to a certificate: the key signs, the certificate's public key
 * verifies. Caught at startup (or reload) with the JSON path, instead of as a failed handshake.
 *
 * <p>Threading: stateless.
 */
final class KeyPairs {
  private KeyPairs() {}

  static boolean belongTogether(PrivateKey key, X509Certificate certificate) {
    String algorithm = switch (key.getAlgorithm()) {
      case "EC" -> "SHA256withECDSA";
      case "RSA" -> "SHA256withRSA";
      default -> null;
    };
    if (algorithm == null) {
      return key.getAlgorithm().equals(certificate.getPublicKey().getAlgorithm()); // e.g. Ed25519: trust the handshake
    }
    try {
      byte[] probe = "keepgate".getBytes(StandardCharsets.US_ASCII);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(certificate.getPublicKey());
      verifier.update(probe);
      return verifier.verify(signature);
    } catch (Exception e) {
      return false; // a key of another type than the certificate's
    }
  }
}
