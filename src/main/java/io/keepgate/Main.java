package io.keepgate;

import io.keepgate.config.ConfigException;
import io.keepgate.config.ConfigLoader;
import io.keepgate.config.GatewayConfig;
import io.keepgate.config.UpstreamConfig;
import io.keepgate.demo.DemoBackends;
import io.keepgate.tls.TlsFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import sun.misc.Signal;

/**
 * The command line (SPEC section 1).
 *
 * <pre>
 * java -jar keepgate.jar [--config PATH] [--validate] [--demo]
 * </pre>
 *
 * Exit codes: 0 after a clean stop or a valid {@code --validate}; 2 for an invalid config or bad
 * arguments (one line per problem on stderr), TLS files included: every certificate and key is
 * parsed and paired, with {@code --validate} as before a start; 1 when the gateway cannot start
 * (e.g. a port in use).
 */
public final class Main {
  static final String DEFAULT_CONFIG = "config/keepgate.json";
  static final int EXIT_INVALID = 2;
  static final int EXIT_START_FAILED = 1;

  private Main() {}

  public static void main(String[] args) {
    System.setProperty("vertx.logger-delegate-factory-class-name", "io.vertx.core.logging.SLF4JLogDelegateFactory");
    System.setProperty("hazelcast.logging.type", "slf4j");
    Arguments arguments = Arguments.parse(args);
    if (arguments.error != null) {
      System.err.println(arguments.error);
      System.err.println("usage: java -jar keepgate.jar [--config PATH] [--validate] [--demo]");
      System.exit(EXIT_INVALID);
    }
    GatewayConfig config;
    try {
      config = ConfigLoader.load(Path.of(arguments.configPath));
      TlsFiles.check(config); // parsed and paired, every problem at once, before anything starts
    } catch (ConfigException e) {
      e.problems().forEach(System.err::println);
      System.exit(EXIT_INVALID);
      return;
    }
    if (arguments.validate) {
      System.out.println(arguments.configPath + ": valid");
      System.exit(0);
    }
    try {
      CountDownLatch stop = stopSignal(); // before the node turns ready: a signal then must drain it too
      DemoBackends demo = arguments.demo ? startDemoBackends(config) : null;
      Gateway gateway = Gateway.start(config, Path.of(arguments.configPath));
      if (demo != null) {
        printDemoHelp(gateway);
      }
      stop.await();
      gateway.drain();
      if (demo != null) {
        demo.close();
      }
      System.exit(0);
    } catch (ConfigException e) {
      e.problems().forEach(System.err::println); // a TLS file that changed since it was checked
      System.exit(EXIT_INVALID);
    } catch (Exception e) {
      System.err.println("keepgate failed to start: " + e);
      System.exit(EXIT_START_FAILED);
    }
  }

  /** Counted down by SIGTERM or SIGINT, from now on. The JVM's own handlers would exit 143/130 before draining. */
  private static CountDownLatch stopSignal() {
    CountDownLatch stop = new CountDownLatch(1);
    Signal.handle(new Signal("TERM"), signal -> stop.countDown());
    Signal.handle(new Signal("INT"), signal -> stop.countDown());
    return stop;
  }

  private static DemoBackends startDemoBackends(GatewayConfig config) throws Exception {
    DemoBackends demo = new DemoBackends();
    List<io.keepgate.config.Endpoint> endpoints = new ArrayList<>();
    for (UpstreamConfig upstream : config.upstreams()) {
      endpoints.addAll(upstream.endpoints());
    }
    demo.start(endpoints);
    return demo;
  }

  private static void printDemoHelp(Gateway gateway) {
    String proxy = "http://127.0.0.1:" + gateway.proxyPort();
    String admin = "http://127.0.0.1:" + gateway.adminPort();
    System.out.println("""

        keepgate demo is running: two sample backends behind the gateway. Try:
          curl -i %1$s/hello                      # proxied, answered by one of the backends
          curl -s %1$s/api/users                  # route "api": /api stripped before forwarding
          for i in 1 2 3 4; do curl -s %1$s/ | grep -E 'backend|upstreamConnection'; done
                                                  # round-robin; the upstream connection is reused
          curl -s %2$s/admin/pools                # pooled connections per endpoint
          curl -s %2$s/metrics | grep keepgate_   # Prometheus metrics
        Stop with Ctrl-C (drains in-flight requests first).
        """.formatted(proxy, admin));
  }

  /** Parsed command-line arguments; {@code error} set when they make no sense. */
  static final class Arguments {
    String configPath = System.getenv().getOrDefault("KEEPGATE_CONFIG", DEFAULT_CONFIG);
    boolean validate;
    boolean demo;
    String error;

    static Arguments parse(String[] args) {
      Arguments parsed = new Arguments();
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--config" -> {
            if (i + 1 >= args.length) {
              parsed.error = "--config needs a path";
              return parsed;
            }
            parsed.configPath = args[++i];
          }
          case "--validate" -> parsed.validate = true;
          case "--demo" -> parsed.demo = true;
          default -> {
            parsed.error = "unknown argument: " + args[i];
            return parsed;
          }
        }
      }
      return parsed;
    }
  }
}
