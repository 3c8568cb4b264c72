package io.keepgate.tls;

import io.keepgate.config.ConfigException;
import io.keepgate.config.GatewayConfig;
import io.keepgate.config.UpstreamConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * The check behind {@code --validate} for TLS: every certificate, key and CA file a config names
 * is parsed and every key matched to its certificate, by the code the gateway itself runs when it
 * starts ({@link ServerCertificates#read}, {@link UpstreamTls#of}). Loading the config only checks
 * that the files are readable.
 *
 * <p>Threading: stateless; blocking file I/O.
 */
public final class TlsFiles {
  private TlsFiles() {}

  /** Every problem of every TLS file in {@code config}, each under its JSON path. */
  public static void check(GatewayConfig config) throws ConfigException {
    List<String> problems = new ArrayList<>();
    if (config.server().tls().enabled()) {
      try {
        ServerCertificates.read(config.server());
      } catch (ConfigException e) {
        problems.addAll(e.problems());
      }
    }
    for (int i = 0; i < config.upstreams().size(); i++) {
      UpstreamConfig upstream = config.upstreams().get(i);
      if (upstream.tls().enabled()) {
        try {
          UpstreamTls.of(upstream, i);
        } catch (ConfigException e) {
          problems.addAll(e.problems());
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
  }
}
