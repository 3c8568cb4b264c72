package io.keepgate.tls;

import io.keepgate.config.ConfigException;
import io.keepgate.config.ServerConfig;
import io.keepgate.config.TlsConfig;
import io.keepgate.metrics.GatewayMetrics;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.util.DomainWildcardMappingBuilder;
import io.netty.util.Mapping;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS listener's certificates, read from their PEM files: one {@link SslContext} per
 * certificate, chosen by SNI against its SAN DNS names (wildcards included); the first is the
 * default, for clients that send no SNI or a name no certificate covers. ALPN offers
 * {@code http/1.1}. Both engines get the configured cipher suites (TLS 1.3's three, then the
 * modern TLS 1.2 list), never their own defaults, which keep CBC suites and RSA key exchange.
 * Each pair is checked before use: the key must sign what the certificate's public key verifies.
 * An expired certificate is served (with a warning), as NGINX does, and its expiry is exposed so
 * that alerts can fire before that.
 *
 * <p>Threading: immutable once read; reading does blocking file I/O, never on an event loop.
 */
public final class ServerCertificates {
  private static final Logger log = LoggerFactory.getLogger(ServerCertificates.class);
  /** One loaded certificate: the name it is reported under, its file and when it expires. */
  public record Loaded(String name, String certFile, Instant notAfter, List<String> sanNames) {}

  /** The context for a client's SNI name, and whether a certificate covers that name (else the default serves). */
  public record Choice(SslContext context, boolean matched) {}

  private final Mapping<String, Choice> contexts;
  private final List<Loaded> loaded;
  private final SslProvider provider;
  private final List<String> applicationProtocols;

  private ServerCertificates(Mapping<String, Choice> contexts, List<Loaded> loaded, SslProvider provider,
      List<String> applicationProtocols) {
    this.contexts = contexts;
    this.loaded = List.copyOf(loaded);
    this.provider = provider;
    this.applicationProtocols = List.copyOf(applicationProtocols);
  }

  /** BoringSSL (netty-tcnative) when it loads on this platform, else the JDK's provider. */
  public static SslProvider preferredProvider() {
    return PreferredProvider.PROVIDER;
  }

  /** Which engine {@link #preferredProvider} is, for the start-up log: {@code BoringSSL through netty-tcnative}. */
  public static String engine() {
    return preferredProvider() == SslProvider.OPENSSL ? OpenSsl.versionString() + " through netty-tcnative"
        : "the JDK's provider (" + OpenSsl.unavailabilityCause() + ")";
  }

  /** Decided on first use; not logged here, so that {@code --validate} prints only problems. */
  private static final class PreferredProvider {
    static final SslProvider PROVIDER = OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
  }

  /** Reads the listener's certificates as it serves them: the preferred engine, ALPN as {@code server.http2} says. */
  public static ServerCertificates read(ServerConfig server) throws ConfigException {
    return read(server.tls(), preferredProvider(), server.http2().enabled()
        ? List.of(ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1)
        : List.of(ApplicationProtocolNames.HTTP_1_1));
  }

  /**
   * Reads every configured pair; a problem is a {@link ConfigException} naming the pair's JSON path.
   *
   * @param applicationProtocols what ALPN offers, in order of preference ({@code h2}, {@code http/1.1})
   */
  public static ServerCertificates read(TlsConfig config, SslProvider provider, List<String> applicationProtocols)
      throws ConfigException {
    List<String> problems = new ArrayList<>();
    DomainWildcardMappingBuilder<Choice> mapping = null;
    List<Loaded> loaded = new ArrayList<>();
    for (int i = 0; i < config.certificates().size(); i++) {
      TlsConfig.CertificateFiles files = config.certificates().get(i);
      String path = "server.tls.certificates[" + i + "]";
      List<X509Certificate> chain;
      PrivateKey key;
      try {
        chain = PemFiles.chain(files.certFile());
      } catch (Exception e) {
        problems.add(path + ".certFile: " + files.certFile() + " is not a PEM certificate chain (" + e.getMessage() + ")");
        continue;
      }
      try {
        key = PemFiles.privateKey(files.keyFile());
      } catch (Exception e) {
        problems.add(path + ".keyFile: " + files.keyFile() + " holds no usable private key (" + e.getMessage() + ")");
        continue;
      }
      if (!KeyPairs.belongTogether(key, chain.get(0))) {
        problems.add(path + ".keyFile: does not match the certificate in certFile");
        continue;
      }
      SslContext context;
      try {
        context = SslContextBuilder.forServer(key, chain)
            .sslProvider(provider)
            .protocols(config.protocols())
            .ciphers(config.cipherSuites(), SupportedCipherSuiteFilter.INSTANCE)
            .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, applicationProtocols))
            .build();
      } catch (Exception e) {
        problems.add(path + ": cannot build a TLS context (" + e.getMessage() + ")");
        continue;
      }
      List<String> names = sanDnsNames(chain.get(0));
      if (mapping == null) {
        List<String> unsupported = unsupportedCiphers(context, config.cipherSuites());
        if (!unsupported.isEmpty()) { // the filter dropped them (a JDK without ChaCha20, say): the rest serve
          log.warn("server.tls.ciphers: the {} engine does not support {}; they are not offered", provider, unsupported);
        }
        mapping = new DomainWildcardMappingBuilder<>(new Choice(context, false)); // the first certificate is the default
      }
      Choice choice = new Choice(context, true);
      for (String name : names) {
        mapping.add(name, choice);
      }
      String name = names.isEmpty() ? chain.get(0).getSubjectX500Principal().getName() : names.get(0);
      if (chain.get(0).getNotAfter().toInstant().isBefore(Instant.now())) {
        log.warn("{}: the certificate for {} expired on {}; serving it anyway (clients will refuse it)", path, name,
            chain.get(0).getNotAfter().toInstant());
      }
      loaded.add(new Loaded(name, files.certFile().toString(), chain.get(0).getNotAfter().toInstant(), names));
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return new ServerCertificates(mapping.build(), loaded, provider, applicationProtocols);
  }

  /** What ALPN offers, for a reload to offer the same. */
  public List<String> applicationProtocols() {
    return applicationProtocols;
  }

  /** The context for a client's SNI name ({@code null}: none sent). */
  public SslContext contextFor(String serverName) {
    return choose(serverName).context();
  }

  /** The context for a client's SNI name ({@code null}: none sent), and whether a certificate covers the name. */
  public Choice choose(String serverName) {
    return contexts.map(serverName);
  }

  public List<Loaded> loaded() {
    return loaded;
  }

  /** When each certificate expires, by name and file. */
  public Map<GatewayMetrics.ServedCertificate, Instant> expiries() {
    Map<GatewayMetrics.ServedCertificate, Instant> expiries = new LinkedHashMap<>();
    loaded.forEach(c -> expiries.put(new GatewayMetrics.ServedCertificate(c.name(), c.certFile()), c.notAfter()));
    return expiries;
  }

  public SslProvider provider() {
    return provider;
  }

  /** The configured suites the built context does not enable (none on BoringSSL or Java 17's own provider). */
  private static List<String> unsupportedCiphers(SslContext context, List<String> configured) {
    return configured.stream().filter(cipher -> !context.cipherSuites().contains(cipher)).toList();
  }

  private static List<String> sanDnsNames(X509Certificate certificate) {
    List<String> names = new ArrayList<>();
    try {
      if (certificate.getSubjectAlternativeNames() != null) {
        for (List<?> entry : certificate.getSubjectAlternativeNames()) {
          if (Integer.valueOf(2).equals(entry.get(0))) { // dNSName
            names.add(entry.get(1).toString());
          }
        }
      }
    } catch (Exception e) {
      // an unparsable SAN extension: the certificate still serves as a default
    }
    return names;
  }
}
