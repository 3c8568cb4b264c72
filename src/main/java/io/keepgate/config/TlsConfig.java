package io.keepgate.config;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The TLS listener ({@code server.tls}), beside the cleartext one on {@code server.port}.
 *
 * @param enabled      run the TLS listener
 * @param port         its port; 0 picks a free port (tests)
 * @param certificates certificate chains and their keys, PEM; chosen by SNI against each
 *                     certificate's SAN names (wildcards included); the first is the default
 * @param protocols    TLS versions offered: {@code TLSv1.3}, {@code TLSv1.2}
 * @param ciphers      the TLS 1.2 cipher suites offered (IANA names), in order of preference; each
 *                     one of {@link #DEFAULT_CIPHERS}; TLS 1.3 offers {@link #TLS13_CIPHERS}
 * @param redirectCleartext the cleartext listener answers every request with a 308 to the same
 *                     URL on the TLS listener
 */
public record TlsConfig(boolean enabled, int port, List<CertificateFiles> certificates, List<String> protocols,
    List<String> ciphers, boolean redirectCleartext) {

  /** A certificate chain and its private key (PKCS#8), both PEM files. */
  public record CertificateFiles(Path certFile, Path keyFile) {}

  /** {@value}. */
  public static final int DEFAULT_PORT = 8443;
  /** TLS 1.3 and 1.2: nothing older. */
  public static final List<String> DEFAULT_PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
  /**
   * The TLS 1.3 suites, always offered whatever {@code ciphers} says: all three are AEAD with
   * forward secrecy, and BoringSSL lets none of them be turned off.
   */
  public static final List<String> TLS13_CIPHERS =
      List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");
  /**
   * The TLS 1.2 suites {@code ciphers} may name, and its default: forward secrecy (ECDHE) and AEAD
   * (AES-GCM, ChaCha20-Poly1305) only, Mozilla's "intermediate" list, every one acceptable to
   * HTTP/2 (RFC 9113, appendix A). No CBC suite and no RSA key exchange, whatever the engine allows.
   */
  public static final List<String> DEFAULT_CIPHERS = List.of(
      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
  /** Off. */
  public static final TlsConfig DISABLED =
      new TlsConfig(false, DEFAULT_PORT, List.of(), DEFAULT_PROTOCOLS, DEFAULT_CIPHERS, false);

  /** What the engine is given: the TLS 1.3 suites, then {@code ciphers}. */
  public List<String> cipherSuites() {
    return Stream.concat(TLS13_CIPHERS.stream(), ciphers.stream()).toList();
  }

  public TlsConfig {
    certificates = List.copyOf(certificates);
    protocols = List.copyOf(protocols);
    ciphers = List.copyOf(ciphers);
  }
}
