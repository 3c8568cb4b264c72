package io.keepgate.config;

import java.nio.file.Path;
import java.util.List;

/**
 * The TLS listener ({@code server.tls}), beside the cleartext one on {@code server.port}.
 *
 * @param enabled      run the TLS listener
 * @param port         its port; 0 picks a free port (tests)
 * @param certificates certificate chains and their keys, PEM; chosen by SNI against each
 *                     certificate's SAN names (wildcards included); the first is the default
 * @param protocols    TLS versions offered: {@code TLSv1.3}, {@code TLSv1.2}
 * @param redirectCleartext the cleartext listener answers every request with a 308 to the same
 *                     URL on the TLS listener
 */
public record TlsConfig(boolean enabled, int port, List<CertificateFiles> certificates, List<String> protocols,
    boolean redirectCleartext) {

  /** A certificate chain and its private key (PKCS#8), both PEM files. */
  public record CertificateFiles(Path certFile, Path keyFile) {}

  /** {@value}. */
  public static final int DEFAULT_PORT = 8443;
  /** TLS 1.3 and 1.2: nothing older. */
  public static final List<String> DEFAULT_PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
  /** Off. */
  public static final TlsConfig DISABLED = new TlsConfig(false, DEFAULT_PORT, List.of(), DEFAULT_PROTOCOLS, false);

  public TlsConfig {
    certificates = List.copyOf(certificates);
    protocols = List.copyOf(protocols);
  }
}
