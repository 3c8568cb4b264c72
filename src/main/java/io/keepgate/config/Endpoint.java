package io.keepgate.config;

/** One upstream address, {@code host:port} (IPv6 literals as {@code [::1]:9001}). */
public record Endpoint(String host, int port) {
  @Override
  public String toString() {
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
  }
}
