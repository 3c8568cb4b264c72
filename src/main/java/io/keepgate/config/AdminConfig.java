package io.keepgate.config;

/** The admin listener: health, metrics and pool views. Never the proxy port. */
public record AdminConfig(String host, int port) {
  /** {@value}: admin is loopback-only unless configured otherwise. */
  public static final String DEFAULT_HOST = "127.0.0.1";
  /** {@value}. */
  public static final int DEFAULT_PORT = 9901;
}
