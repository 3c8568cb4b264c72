package io.keepgate.config;

import java.nio.file.Path;

/**
 * TLS to an upstream's endpoints ({@code upstreams[].tls}).
 *
 * @param enabled    speak TLS to every endpoint of the upstream
 * @param serverName the name sent as SNI and verified against the endpoint's certificate; empty =
 *                   the endpoint's host (an IP address is verified against the certificate's IP SANs);
 *                   with DNS discovery the loader sets it to the name looked up, as the endpoints
 *                   are that name's addresses
 * @param caFile     PEM bundle of the CAs to trust; {@code null} = the JDK's trust store
 * @param verify     verify the endpoint's certificate chain and name; off only for tests and
 *                   self-signed lab backends
 * @param certFile   client certificate chain (PEM) for mutual TLS; {@code null} = none
 * @param keyFile    its private key (PEM); set exactly when {@code certFile} is
 */
public record UpstreamTlsConfig(
    boolean enabled, String serverName, Path caFile, boolean verify, Path certFile, Path keyFile) {

  /** Off. */
  public static final UpstreamTlsConfig DISABLED = new UpstreamTlsConfig(false, "", null, true, null, null);

  /** The same settings with TLS on. */
  public UpstreamTlsConfig withEnabled() {
    return new UpstreamTlsConfig(true, serverName, caFile, verify, certFile, keyFile);
  }
}
