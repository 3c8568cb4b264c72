package io.keepgate.tls;

import io.keepgate.config.ConfigException;
import io.keepgate.config.TlsConfig;
import io.keepgate.metrics.GatewayMetrics;
import io.netty.handler.ssl.SslProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rotates the TLS listener's certificates without a restart: the certificate and key files are
 * read every second, and when their content changed they are read as at startup. A good set goes
 * to {@code apply} (new handshakes use it; connections already established keep theirs); a bad
 * one (a half-written pair, a key that does not match) is logged with its JSON paths and counted,
 * and the previous set keeps serving. Polling content rather than watching inodes catches a
 * Kubernetes Secret update, which swaps a {@code ..data} symlink. Each file is opened on its own,
 * so a swap can fall between the certificate and the key: a set that fails while the files are
 * still changing is read again at the next poll, not counted as rejected.
 *
 * <p>Threading: one dedicated thread reads the files and builds the contexts; {@code apply} runs on it.
 */
public final class CertificateWatcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CertificateWatcher.class);

  private final TlsConfig config;
  private final SslProvider provider;
  private final Consumer<ServerCertificates> apply;
  private final GatewayMetrics metrics;
  private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "keepgate-certificate-watcher");
    t.setDaemon(true);
    return t;
  });
  private final List<String> applicationProtocols;
  private byte[] lastSeen;

  private CertificateWatcher(TlsConfig config, SslProvider provider, List<String> applicationProtocols,
      Consumer<ServerCertificates> apply, GatewayMetrics metrics) {
    this.config = config;
    this.provider = provider;
    this.applicationProtocols = applicationProtocols;
    this.apply = apply;
    this.metrics = metrics;
  }

  /** Starts polling; {@code current} is the set already serving, read from the files as they are now. */
  public static CertificateWatcher start(TlsConfig config, ServerCertificates current,
      Consumer<ServerCertificates> apply, GatewayMetrics metrics) {
    CertificateWatcher watcher = new CertificateWatcher(config, current.provider(), current.applicationProtocols(), apply,
        metrics);
    watcher.lastSeen = watcher.contents();
    watcher.thread.scheduleWithFixedDelay(watcher::check, 1, 1, TimeUnit.SECONDS);
    return watcher;
  }

  private void check() {
    byte[] now = contents();
    if (now == null || Arrays.equals(now, lastSeen)) {
      return; // unreadable for now (the next poll tries again), or unchanged
    }
    try {
      ServerCertificates next = ServerCertificates.read(config, provider, applicationProtocols);
      lastSeen = now;
      apply.accept(next);
      metrics.tlsCertificateReload("applied");
      metrics.tlsCertificates(next.expiries());
      log.info("TLS certificates reloaded: {}", next.loaded().stream().map(ServerCertificates.Loaded::name).toList());
    } catch (ConfigException | RuntimeException e) {
      if (!Arrays.equals(contents(), now)) {
        return; // the files changed while being read (one read the old certificate, the next the new key): read again
      }
      lastSeen = now;
      metrics.tlsCertificateReload("rejected");
      if (e instanceof ConfigException problems) {
        log.error("TLS certificates changed but not reloaded, the previous ones keep serving: {}", problems.problems());
      } else {
        log.error("TLS certificates changed but not reloaded, the previous ones keep serving", e);
      }
    }
  }

  /** Every certificate and key file's bytes, in order; null when one cannot be read now. */
  private byte[] contents() {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    try {
      for (TlsConfig.CertificateFiles files : config.certificates()) {
        all.write(Files.readAllBytes(files.certFile()));
        all.write(0);
        all.write(Files.readAllBytes(files.keyFile()));
        all.write(0);
      }
    } catch (IOException e) {
      return null;
    }
    return all.toByteArray();
  }

  @Override
  public void close() {
    thread.shutdownNow();
  }
}
