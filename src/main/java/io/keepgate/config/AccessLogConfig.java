package io.keepgate.config;

/** The per-request access log, written asynchronously to stdout. */
public record AccessLogConfig(boolean enabled) {
  /** {@value}. */
  public static final boolean DEFAULT_ENABLED = true;
}
