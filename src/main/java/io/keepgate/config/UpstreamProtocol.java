package io.keepgate.config;

/** What an upstream's endpoints speak ({@code upstreams[].protocol}). */
public enum UpstreamProtocol {
  /** One request at a time per connection, connections pooled (HTTP keep-alive). */
  HTTP_1_1("http/1.1"),
  /** HTTP/2 over TLS, chosen by ALPN: many streams per connection. */
  H2("h2"),
  /** Cleartext HTTP/2 by prior knowledge (RFC 9113 section 3.3), as gRPC servers and meshes accept it. */
  H2C("h2c");

  private final String jsonName;

  UpstreamProtocol(String jsonName) {
    this.jsonName = jsonName;
  }

  /** The name used in JSON config. */
  public String jsonName() {
    return jsonName;
  }

  /** Whether connections to the endpoints multiplex HTTP/2 streams. */
  public boolean http2() {
    return this != HTTP_1_1;
  }

  /** The value with this JSON name, or {@code null}. */
  public static UpstreamProtocol fromJson(String name) {
    for (UpstreamProtocol protocol : values()) {
      if (protocol.jsonName.equals(name)) {
        return protocol;
      }
    }
    return null;
  }
}
