package io.keepgate;

import io.keepgate.config.ConfigException;
import io.keepgate.config.ConfigLoader;
import io.keepgate.config.GatewayConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies changes to the config file: polled every second, and on {@code POST /admin/reload}.
 * Polling the content (not inotify on the file) catches a Kubernetes ConfigMap update, which
 * swaps a {@code ..data} symlink rather than writing the file. A valid new config is applied by
 * {@link Gateway#reload}; an invalid one is rejected with the same path-named problems as at
 * startup, logged and counted, and the old config keeps serving.
 *
 * <p>Threading: one dedicated thread does every read and reload, so reloads never overlap and
 * no event loop ever touches the file.
 */
public final class ConfigReloader {
  private static final Logger log = LoggerFactory.getLogger(ConfigReloader.class);

  private final Path file;
  private final Gateway gateway;
  private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "keepgate-config-reloader");
    t.setDaemon(true);
    return t;
  });
  /** The content last acted on (applied or rejected), so a bad file is reported once, not every second. */
  private byte[] lastSeen;
  private static final long UNREADABLE_LOG_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);
  private long lastUnreadableLog = System.nanoTime() - UNREADABLE_LOG_EVERY_NANOS;

  /** The outcome of one reload attempt, as {@code POST /admin/reload} reports it. */
  public record Outcome(String result, int version, List<String> problems, List<String> restartRequired) {
    public JsonObject toJson() {
      return new JsonObject().put("result", result).put("version", version)
          .put("problems", new JsonArray(List.copyOf(problems)))
          .put("restartRequired", new JsonArray(List.copyOf(restartRequired)));
    }
  }

  private ConfigReloader(Path file, Gateway gateway) {
    this.file = file;
    this.gateway = gateway;
  }

  static ConfigReloader watch(Path file, Gateway gateway) {
    ConfigReloader reloader = new ConfigReloader(file, gateway);
    reloader.lastSeen = reloader.read();
    reloader.thread.scheduleWithFixedDelay(() -> reloader.check(false), 1, 1, TimeUnit.SECONDS);
    return reloader;
  }

  /** Reads the file now and applies it if it changed. Completes on the reloader thread. */
  public CompletableFuture<Outcome> reloadNow() {
    return CompletableFuture.supplyAsync(() -> check(true), thread);
  }

  void stop() {
    thread.shutdownNow();
  }

  private Outcome check(boolean requested) {
    byte[] content;
    try {
      content = Files.readAllBytes(file);
    } catch (IOException e) {
      // not an invalid config: the file cannot be read now (out of file descriptors, a ConfigMap
      // update half done); the running config stays and the next poll tries again
      gateway.reloadUnreadable();
      long now = System.nanoTime();
      if (requested || now - lastUnreadableLog >= UNREADABLE_LOG_EVERY_NANOS) {
        lastUnreadableLog = now;
        log.warn("config file {} cannot be read ({}); version {} keeps serving", file, e.toString(),
            gateway.configVersion());
      }
      return new Outcome("unreadable", gateway.configVersion(), List.of(e.toString()), List.of());
    }
    if (Arrays.equals(content, lastSeen)) {
      return new Outcome("unchanged", gateway.configVersion(), List.of(), List.of());
    }
    lastSeen = content;
    try {
      GatewayConfig next = ConfigLoader.load(file);
      List<String> restartRequired = gateway.reload(next);
      if (!restartRequired.isEmpty()) {
        log.warn("config reload: changes to {} take effect after a restart", restartRequired);
      }
      return new Outcome("applied", gateway.configVersion(), List.of(), restartRequired);
    } catch (ConfigException e) {
      gateway.reloadRejected();
      log.warn("config reload rejected{}; version {} keeps serving:", requested ? " (requested)" : "",
          gateway.configVersion());
      e.problems().forEach(problem -> log.warn("  {}", problem));
      return new Outcome("rejected", gateway.configVersion(), e.problems(), List.of());
    } catch (RuntimeException e) {
      gateway.reloadRejected();
      log.error("config reload failed; the old config keeps serving", e);
      return new Outcome("rejected", gateway.configVersion(), List.of(e.toString()), List.of());
    }
  }

  /** The file's bytes, or null when it cannot be read (ConfigLoader then names the reason). */
  private byte[] read() {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      return null;
    }
  }
}
