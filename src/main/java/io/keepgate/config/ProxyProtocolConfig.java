package io.keepgate.config;

import java.util.List;

/**
 * The PROXY protocol (v1 and v2) on the proxy listeners ({@code server.proxyProtocol}): a load
 * balancer in front of keepgate tells it the real client's address.
 *
 * @param enabled      accept PROXY headers
 * @param trustedCidrs the only source networks whose PROXY headers are believed ({@code 10.0.0.0/8},
 *                     {@code fd00::/8}); a header from anywhere else closes the connection
 */
public record ProxyProtocolConfig(boolean enabled, List<String> trustedCidrs) {

  /** Off. */
  public static final ProxyProtocolConfig DISABLED = new ProxyProtocolConfig(false, List.of());

  public ProxyProtocolConfig {
    trustedCidrs = List.copyOf(trustedCidrs);
  }
}
