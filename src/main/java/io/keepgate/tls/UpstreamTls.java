package io.keepgate.tls;

import io.keepgate.config.ConfigException;
import io.keepgate.config.UpstreamConfig;
import io.keepgate.config.UpstreamProtocol;
import io.keepgate.config.UpstreamTlsConfig;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * TLS to one upstream's endpoints: one client {@link SslContext}, and a handler per connection
 * that sends the server name as SNI and verifies the endpoint's certificate chain (the JDK's
 * trust store or {@code caFile}) and name ({@code serverName}, else the endpoint's host), with a
 * client certificate for mutual TLS when configured. BoringSSL when it loads, as on the listener.
 *
 * <p>Threading: immutable; {@link #newHandler} runs on any event loop. Building reads files:
 * never on an event loop.
 */
public final class UpstreamTls {
  private static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

  private final SslContext context;
  private final String serverName;
  private final long handshakeTimeoutMillis;

  private UpstreamTls(SslContext context, String serverName, long handshakeTimeoutMillis) {
    this.context = context;
    this.serverName = serverName;
    this.handshakeTimeoutMillis = handshakeTimeoutMillis;
  }

  /** The TLS of {@code upstreams[index]}: its handshake within the connect timeout, ALPN {@code h2} for protocol h2. */
  public static UpstreamTls of(UpstreamConfig upstream, int index) throws ConfigException {
    return of(upstream.tls(), "upstreams[" + index + "].tls", upstream.pool().connectTimeout(),
        upstream.protocol() == UpstreamProtocol.H2);
  }

  /**
   * Reads the CA bundle and the client certificate of {@code config}; a problem is a
   * {@link ConfigException} under {@code path} (e.g. {@code upstreams[2].tls}). With {@code http2}
   * the handshake offers only {@code h2} by ALPN.
   */
  public static UpstreamTls of(UpstreamTlsConfig config, String path, Duration handshakeTimeout, boolean http2)
      throws ConfigException {
    List<String> problems = new ArrayList<>();
    SslContextBuilder builder = SslContextBuilder.forClient()
        .sslProvider(ServerCertificates.preferredProvider())
        .protocols(PROTOCOLS);
    if (http2) {
      builder.applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
          ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
          ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ApplicationProtocolNames.HTTP_2));
    }
    if (!config.verify()) {
      builder.trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
    } else {
      builder.endpointIdentificationAlgorithm("HTTPS");
      if (config.caFile() != null) {
        try {
          builder.trustManager(PemFiles.chain(config.caFile()));
        } catch (Exception e) {
          problems.add(path + ".caFile: " + config.caFile() + " holds no PEM certificate (" + e.getMessage() + ")");
        }
      }
    }
    if (config.certFile() != null) {
      try {
        List<X509Certificate> chain = PemFiles.chain(config.certFile());
        PrivateKey key = PemFiles.privateKey(config.keyFile());
        if (!KeyPairs.belongTogether(key, chain.get(0))) {
          problems.add(path + ".keyFile: does not match the certificate in certFile");
        }
        builder.keyManager(key, chain);
      } catch (Exception e) {
        problems.add(path + ".certFile/keyFile: not a usable PEM certificate and key (" + e.getMessage() + ")");
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    try {
      return new UpstreamTls(builder.build(), config.serverName(), handshakeTimeout.toMillis());
    } catch (Exception e) {
      throw new ConfigException(List.of(path + ": cannot build a TLS context (" + e.getMessage() + ")"));
    }
  }

  /** The handler for a new connection to {@code host}: SNI and the name verified are {@code serverName}, else the host. */
  public SslHandler newHandler(ByteBufAllocator allocator, String host, int port) {
    SslHandler handler = context.newHandler(allocator, serverName.isEmpty() ? host : serverName, port);
    handler.setHandshakeTimeoutMillis(handshakeTimeoutMillis);
    return handler;
  }
}
