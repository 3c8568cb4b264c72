package io.keepgate.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonParser;
import io.netty.util.NetUtil;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.jackson.JacksonCodec;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Reads the JSON configuration of SPEC section 2 into the immutable {@link GatewayConfig} records,
 * and writes the effective configuration back as JSON.
 *
 * <p>{@link #parse(String)} and {@link #toJson(GatewayConfig)} are pure functions: no I/O, no
 * global state. Only {@link #load(Path)} touches the file system, to read the file it then parses.
 *
 * <p>Validation never stops at the first mistake: every problem in the document is collected, one
 * line each in the form {@code <json path>: <reason>} (for example {@code routes[1].upstream: no
 * upstream named "billing"} or {@code server.port: "80" (expected: integer)}), and all of them are
 * thrown together in one {@link ConfigException}. A configuration is either entirely valid or not
 * returned at all.
 *
 * <p>Every key is optional except {@code upstreams[].name}, {@code upstreams[].endpoints} and
 * {@code routes[].upstream}; absent keys take the {@code DEFAULT_*} constants of the records. Keys
 * ending in {@code Ms} are milliseconds. Integer keys accept any integral JSON number within range
 * ({@code 5}, {@code 5.0}, {@code 5e0}), never a fraction or a string. Duplicate keys within one
 * JSON object are rejected as invalid JSON, since one of the two values would silently be lost.
 */
public final class ConfigLoader {

  /** Names the whole document in problem lines from {@link #parse(String)}. */
  public static final String DOCUMENT = "<config>";

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]+");
  private static final String NAME_EXPECTED = "letters, digits, '.', '_' or '-'";
  private static final Pattern HOST_NAME = Pattern.compile("[A-Za-z0-9._-]+");
  private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%[A-Za-z0-9._-]+)?");
  private static final Pattern METHOD = Pattern.compile("[A-Za-z]+");
  private static final Pattern MATCH_HOST = Pattern.compile("(\\*\\.)?[a-z0-9_-]+(\\.[a-z0-9_-]+)*|\\[[0-9a-f:.]+\\]");
  private static final Pattern HOST_HEADER =
      Pattern.compile("([A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*|\\[[0-9A-Fa-f:.]+\\])(:[0-9]{1,5})?");
  private static final int MAX_SHOWN_CHARS = 60;

  private ConfigLoader() {}

  /**
   * Reads and parses a configuration file.
   *
   * @throws ConfigException if the file cannot be read ({@code <path>: cannot read: <reason>}), is
   *     not valid JSON ({@code <path>: invalid JSON: <parser message>}) or is not a valid config
   */
  public static GatewayConfig load(Path path) throws ConfigException {
    Objects.requireNonNull(path, "path");
    String text;
    try {
      text = Files.readString(path);
    } catch (IOException e) {
      throw new ConfigException(List.of(path + ": cannot read: " + describe(e)));
    }
    return parse(text, path.toString(), true);
  }

  /**
   * Parses and validates a configuration document.
   *
   * @throws ConfigException listing every problem found, each naming its JSON path and the reason
   */
  public static GatewayConfig parse(String json) throws ConfigException {
    return parse(Objects.requireNonNull(json, "json"), DOCUMENT, true);
  }

  /**
   * As {@link #parse(String)}, for a config that will run on another host (a ConfigMap, an image's
   * config): every check but that the files it names (certificates, keys, CA bundles) exist here.
   */
  public static GatewayConfig parseForAnotherHost(String json) throws ConfigException {
    return parse(Objects.requireNonNull(json, "json"), DOCUMENT, false);
  }

  /**
   * The effective configuration, every key included (defaults too), in the shape and key names of
   * the input: {@code parse(toJson(config).encode())} equals {@code config}. Served by
   * {@code GET /admin/config}.
   */
  public static JsonObject toJson(GatewayConfig config) {
    JsonArray upstreams = new JsonArray();
    config.upstreams().forEach(upstream -> upstreams.add(upstreamJson(upstream)));
    JsonArray routes = new JsonArray();
    config.routes().forEach(route -> routes.add(routeJson(route)));
    return new JsonObject()
        .put("server", serverJson(config.server()))
        .put("admin", new JsonObject().put("host", config.admin().host()).put("port", config.admin().port()))
        .put("accessLog", new JsonObject().put("enabled", config.accessLog().enabled()))
        .put("upstreams", upstreams)
        .put("routes", routes)
        .put("cluster", clusterJson(config.cluster()));
  }

  // ---------------------------------------------------------------------------------------------
  // Parsing

  private static GatewayConfig parse(String text, String source, boolean checkFiles) throws ConfigException {
    Object document;
    try {
      document = decode(text);
    } catch (DecodeException e) {
      throw new ConfigException(List.of(source + ": invalid JSON: " + parserMessage(text, e)));
    }
    if (!(document instanceof JsonObject root)) {
      throw new ConfigException(List.of(source + ": " + show(document) + " (expected: object)"));
    }
    List<String> problems = new ArrayList<>();
    GatewayConfig config = readGateway(new Reader(root, "", -1, problems, checkFiles));
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return config;
  }

  private static Object decode(String text) {
    JsonParser parser = JacksonCodec.createParser(text);
    parser.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    return JacksonCodec.fromParser(parser, Object.class);
  }

  /** The parser's complaint on one line, with its position. */
  private static String parserMessage(String text, DecodeException e) {
    if (text.isBlank()) {
      return "empty document";
    }
    if (e.getCause() instanceof JsonProcessingException cause) {
      // Jackson appends "(start marker at [Source: ...])" to some messages: noise for a user
      String message = cause.getOriginalMessage().replaceAll("\\s*\\(start marker at .*", "")
          .replaceAll("\\s+", " ").trim();
      JsonLocation at = cause.getLocation();
      return at == null ? message : message + " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
    }
    String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return message.lines().findFirst().orElse(message).trim();
  }

  private static String describe(IOException e) {
    if (e instanceof NoSuchFileException) {
      return "no such file";
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof CharacterCodingException) {
      return "not valid UTF-8";
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  private static GatewayConfig readGateway(Reader root) {
    // $schema: the editor's pointer to config/keepgate.schema.json, nothing to the gateway
    root.checkKeys("$schema", "server", "admin", "accessLog", "upstreams", "routes", "cluster");
    int mark = root.problemCount();
    ServerConfig server = readServer(root.object("server"));
    AdminConfig admin = readAdmin(root.object("admin"));
    if (root.problemCount() == mark && admin.port() != 0 && admin.port() == server.port()) {
      root.report("admin.port", admin.port() + " (expected: different from server.port)");
    }
    AccessLogConfig accessLog = readAccessLog(root.object("accessLog"));
    Map<String, String> upstreamPaths = new HashMap<>();
    List<UpstreamConfig> upstreams = new ArrayList<>();
    root.forEachObject("upstreams", upstream -> upstreams.add(readUpstream(upstream, upstreamPaths)));
    Map<String, String> routePaths = new HashMap<>();
    List<RouteConfig> routes = new ArrayList<>();
    root.forEachObject("routes", route -> routes.add(readRoute(route, upstreamPaths.keySet(), routePaths)));
    ClusterConfig cluster = readCluster(root.object("cluster"));
    return new GatewayConfig(server, admin, accessLog, upstreams, routes, cluster);
  }

  private static ServerConfig readServer(Reader r) {
    r.checkKeys("host", "port", "idleTimeoutMs", "headerReadTimeoutMs", "maxHeaderBytes",
        "maxRequestLineBytes", "drainTimeoutMs", "eventLoops", "maxConnections", "sendTimeoutMs",
        "responseBufferBytes", "socketSendBufferBytes", "tls", "proxyProtocol", "http2");
    return new ServerConfig(
        r.listenHost("host", ServerConfig.DEFAULT_HOST),
        r.integer("port", ServerConfig.DEFAULT_PORT, 0, 65535),
        r.duration("idleTimeoutMs", ServerConfig.DEFAULT_IDLE_TIMEOUT, true),
        r.duration("headerReadTimeoutMs", ServerConfig.DEFAULT_HEADER_READ_TIMEOUT, true),
        r.integer("maxHeaderBytes", ServerConfig.DEFAULT_MAX_HEADER_BYTES, 1024, 1048576),
        r.integer("maxRequestLineBytes", ServerConfig.DEFAULT_MAX_REQUEST_LINE_BYTES, 256, 1048576),
        r.duration("drainTimeoutMs", ServerConfig.DEFAULT_DRAIN_TIMEOUT, true),
        r.integer("eventLoops", ServerConfig.DEFAULT_EVENT_LOOPS, 0, 1024),
        r.integer("maxConnections", ServerConfig.DEFAULT_MAX_CONNECTIONS, 0, Integer.MAX_VALUE),
        r.duration("sendTimeoutMs", ServerConfig.DEFAULT_SEND_TIMEOUT, true),
        r.integer("responseBufferBytes", ServerConfig.DEFAULT_RESPONSE_BUFFER_BYTES, 4096, 16 << 20),
        r.integer("socketSendBufferBytes", ServerConfig.DEFAULT_SOCKET_SEND_BUFFER_BYTES, 0, 64 << 20),
        readTls(r.object("tls")),
        readProxyProtocol(r.object("proxyProtocol")),
        readHttp2(r.object("http2")));
  }

  private static Http2Config readHttp2(Reader r) {
    r.checkKeys("enabled", "h2c", "maxConcurrentStreams");
    return new Http2Config(
        r.bool("enabled", Http2Config.DEFAULT_ENABLED),
        r.bool("h2c", Http2Config.DEFAULT_H2C),
        r.integer("maxConcurrentStreams", Http2Config.DEFAULT_MAX_CONCURRENT_STREAMS, 1, 10000));
  }

  private static ProxyProtocolConfig readProxyProtocol(Reader r) {
    r.checkKeys("enabled", "trustedCidrs");
    boolean enabled = r.bool("enabled", false);
    List<String> cidrs = new ArrayList<>();
    List<Item> items = r.strings("trustedCidrs", false);
    for (Item item : items == null ? List.<Item>of() : items) {
      if (isCidr(item.value())) {
        cidrs.add(item.value());
      } else {
        r.report(item.path(), show(item.value()) + " (expected: a network as address/prefix, e.g. 10.0.0.0/8 or fd00::/8)");
      }
    }
    if (enabled && cidrs.isEmpty() && (items == null || items.isEmpty())) {
      r.problem("trustedCidrs", "[] (expected: the load balancers' networks: a PROXY header from anywhere else is refused)");
    }
    return new ProxyProtocolConfig(enabled, cidrs);
  }

  /** An IP address literal (Netty's parser: no name lookup), then {@code /} and a prefix length that fits it. */
  private static boolean isCidr(String value) {
    int slash = value.indexOf('/');
    if (slash < 0 || !value.substring(slash + 1).matches("\\d{1,3}")) {
      return false;
    }
    String address = value.substring(0, slash);
    int prefix = Integer.parseInt(value.substring(slash + 1));
    return NetUtil.isValidIpV4Address(address) ? prefix <= 32 : NetUtil.isValidIpV6Address(address) && prefix <= 128;
  }

  private static final Set<String> TLS_PROTOCOLS = Set.of("TLSv1.3", "TLSv1.2");

  private static TlsConfig readTls(Reader r) {
    r.checkKeys("enabled", "port", "certificates", "protocols", "ciphers", "redirectCleartext");
    boolean enabled = r.bool("enabled", false);
    int port = r.integer("port", TlsConfig.DEFAULT_PORT, 0, 65535);
    List<TlsConfig.CertificateFiles> certificates = new ArrayList<>();
    r.forEachObject("certificates", c -> {
      c.checkKeys("certFile", "keyFile");
      Path certFile = readableFile(c, "certFile");
      Path keyFile = readableFile(c, "keyFile");
      certificates.add(new TlsConfig.CertificateFiles(certFile, keyFile));
    });
    if (enabled && certificates.isEmpty()) {
      r.problem("certificates", "[] (expected: at least one certificate when TLS is enabled)");
    }
    List<String> protocols = new ArrayList<>();
    List<Item> items = r.strings("protocols", false);
    if (items == null) {
      protocols.addAll(TlsConfig.DEFAULT_PROTOCOLS);
    }
    for (Item item : items == null ? List.<Item>of() : items) {
      if (TLS_PROTOCOLS.contains(item.value())) {
        protocols.add(item.value());
      } else {
        r.report(item.path(), show(item.value()) + " (expected: TLSv1.3 or TLSv1.2)");
      }
    }
    if (items != null && items.isEmpty()) {
      r.problem("protocols", "[] (expected: TLSv1.3, TLSv1.2 or both)");
    }
    List<String> ciphers = readCiphers(r, protocols);
    boolean redirect = r.bool("redirectCleartext", false);
    if (redirect && !enabled) {
      r.problem("redirectCleartext", "true (expected: false unless server.tls.enabled: there is no TLS listener to redirect to)");
    }
    return new TlsConfig(enabled, port, certificates, protocols, ciphers, redirect);
  }

  /** {@code server.tls.ciphers}: TLS 1.2 suites from keepgate's modern list only, at least one while TLS 1.2 is offered. */
  private static List<String> readCiphers(Reader r, List<String> protocols) {
    List<Item> items = r.strings("ciphers", false);
    if (items == null) {
      return TlsConfig.DEFAULT_CIPHERS;
    }
    List<String> ciphers = new ArrayList<>();
    for (Item item : items) {
      if (TlsConfig.DEFAULT_CIPHERS.contains(item.value())) {
        ciphers.add(item.value());
      } else if (TlsConfig.TLS13_CIPHERS.contains(item.value())) {
        r.report(item.path(), show(item.value()) + " (expected: a TLS 1.2 suite; the TLS 1.3 suites are always offered)");
      } else {
        r.report(item.path(), show(item.value()) + " (expected: one of " + String.join(", ", TlsConfig.DEFAULT_CIPHERS) + ")");
      }
    }
    if (items.isEmpty() && protocols.contains("TLSv1.2")) {
      r.problem("ciphers", "[] (expected: at least one suite while protocols offers TLSv1.2)");
    }
    return ciphers;
  }

  /** A file that must exist and be readable; reported under its key otherwise. */
  private static Path readableFile(Reader r, String key) {
    String value = r.requiredString(key);
    if (value == null) {
      return Path.of("");
    }
    Path file = Path.of(value);
    if (r.checkFiles && (!Files.isRegularFile(file) || !Files.isReadable(file))) {
      r.problem(key, show(value) + " (expected: a readable file)");
    }
    return file;
  }

  private static AdminConfig readAdmin(Reader r) {
    r.checkKeys("host", "port");
    return new AdminConfig(
        r.listenHost("host", AdminConfig.DEFAULT_HOST), r.integer("port", AdminConfig.DEFAULT_PORT, 0, 65535));
  }

  private static AccessLogConfig readAccessLog(Reader r) {
    r.checkKeys("enabled");
    return new AccessLogConfig(r.bool("enabled", AccessLogConfig.DEFAULT_ENABLED));
  }

  private static UpstreamConfig readUpstream(Reader r, Map<String, String> namePaths) {
    r.checkKeys("name", "endpoints", "loadBalancer", "pool", "tcpKeepAlive", "responseTimeoutMs", "perTryTimeoutMs",
        "healthCheck", "tls", "discovery", "slowStartMs", "protocol", "http2Ping", "retryBudget");
    String name = r.requiredString("name");
    if (name != null) {
      r.uniqueName("name", name, "upstream", namePaths);
    }
    DiscoveryConfig discovery = r.has("discovery") ? readDiscovery(r.object("discovery")) : null;
    if (r.has("discovery") && r.has("endpoints")) {
      r.problem("discovery", "set beside endpoints (expected: endpoints or discovery, not both)");
    }
    List<Endpoint> endpoints = r.has("discovery") ? List.of() : readEndpoints(r);
    LoadBalancing loadBalancer = readLoadBalancer(r);
    PoolConfig pool = readPool(r.object("pool"));
    TcpKeepAliveConfig tcpKeepAlive = readTcpKeepAlive(r.object("tcpKeepAlive"));
    Duration responseTimeout = r.duration("responseTimeoutMs", UpstreamConfig.DEFAULT_RESPONSE_TIMEOUT, true);
    Duration perTryTimeout = r.duration("perTryTimeoutMs", UpstreamConfig.DEFAULT_PER_TRY_TIMEOUT, false);
    if (!perTryTimeout.isZero() && perTryTimeout.compareTo(responseTimeout) >= 0) {
      r.problem("perTryTimeoutMs", perTryTimeout.toMillis() + " (expected: 0, or less than responseTimeoutMs "
          + responseTimeout.toMillis() + ")");
    }
    Duration slowStart = r.duration("slowStartMs", UpstreamConfig.DEFAULT_SLOW_START, false);
    UpstreamProtocol protocol = readProtocol(r);
    UpstreamTlsConfig tls = readUpstreamTls(r.object("tls"), discovery);
    if (protocol == UpstreamProtocol.H2 && !tls.enabled()) {
      tls = tls.withEnabled(); // h2 is HTTP/2 over TLS: ALPN picks it
    } else if (protocol == UpstreamProtocol.H2C && tls.enabled()) {
      r.problem("protocol", "\"h2c\" with tls enabled (expected: \"h2\" for HTTP/2 over TLS, h2c is cleartext)");
    }
    Http2PingConfig ping = Http2PingConfig.DEFAULT;
    if (r.has("http2Ping")) {
      if (!protocol.http2()) {
        r.problem("http2Ping", "set on an http/1.1 upstream (expected: protocol h2 or h2c)");
      }
      ping = readHttp2Ping(r.object("http2Ping"));
    }
    return new UpstreamConfig(name, endpoints, loadBalancer, pool, tcpKeepAlive, responseTimeout, perTryTimeout,
        readHealthCheck(r.object("healthCheck")), tls, discovery, slowStart, protocol, ping,
        readRetryBudget(r.object("retryBudget")));
  }

  private static RetryBudgetConfig readRetryBudget(Reader r) {
    r.checkKeys("enabled", "percent", "minPerSecond");
    return new RetryBudgetConfig(r.bool("enabled", RetryBudgetConfig.DEFAULT_ENABLED),
        r.integer("percent", RetryBudgetConfig.DEFAULT_PERCENT, 0, 100),
        r.integer("minPerSecond", RetryBudgetConfig.DEFAULT_MIN_PER_SECOND, 0, Integer.MAX_VALUE));
  }

  private static UpstreamProtocol readProtocol(Reader r) {
    String value = r.string("protocol", UpstreamConfig.DEFAULT_PROTOCOL.jsonName());
    UpstreamProtocol protocol = UpstreamProtocol.fromJson(value);
    if (protocol == null) {
      r.problem("protocol", show(value) + " (expected: \"http/1.1\", \"h2\" or \"h2c\")");
      return UpstreamConfig.DEFAULT_PROTOCOL;
    }
    return protocol;
  }

  private static Http2PingConfig readHttp2Ping(Reader r) {
    r.checkKeys("intervalMs", "timeoutMs");
    return new Http2PingConfig(r.duration("intervalMs", Http2PingConfig.DEFAULT_INTERVAL, false),
        r.duration("timeoutMs", Http2PingConfig.DEFAULT_TIMEOUT, true));
  }

  /** One discovery source: {@code dns} or {@code kubernetes}. */
  private static DiscoveryConfig readDiscovery(Reader r) {
    r.checkKeys("dns", "kubernetes");
    if (r.has("dns") == r.has("kubernetes")) {
      r.problem(r.has("dns") ? "kubernetes" : "dns",
          r.has("dns") ? "set beside dns (expected: one discovery source)" : "missing (expected: dns or kubernetes)");
      return null;
    }
    return r.has("dns") ? readDnsDiscovery(r.object("dns")) : readKubernetesDiscovery(r.object("kubernetes"));
  }

  private static DnsDiscoveryConfig readDnsDiscovery(Reader dns) {
    dns.checkKeys("name", "port", "refreshMs", "servers");
    String name = dns.requiredString("name");
    if (name != null && !name.matches("[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?\\.?")) {
      dns.problem("name", show(name) + " (expected: a DNS name)");
    }
    if (!dns.has("port")) {
      dns.problem("port", "missing (required)");
    }
    int port = dns.integer("port", 1, 1, 65535);
    Duration refresh = dns.duration("refreshMs", DnsDiscoveryConfig.DEFAULT_REFRESH, true);
    List<Endpoint> servers = hostPorts(dns, dns.strings("servers", false), true);
    return new DnsDiscoveryConfig(name == null ? "" : name, port, refresh, servers);
  }

  /** Kubernetes object names (RFC 1035 labels) and port names (IANA service names), as the API validates them. */
  private static final Pattern DNS_LABEL = Pattern.compile("[a-z]([a-z0-9-]{0,61}[a-z0-9])?");
  private static final Pattern PORT_NAME = Pattern.compile("(?=.{1,15}$)[a-z0-9]+(-[a-z0-9]+)*");

  private static KubernetesDiscoveryConfig readKubernetesDiscovery(Reader k8s) {
    k8s.checkKeys("service", "namespace", "port", "apiServer");
    String service = k8s.requiredString("service");
    if (service != null && !DNS_LABEL.matcher(service).matches()) {
      k8s.problem("service", show(service) + " (expected: a Service name, lower-case letters, digits and '-')");
    }
    String namespace = k8s.string("namespace", "");
    if (!namespace.isEmpty() && !DNS_LABEL.matcher(namespace).matches()) {
      k8s.problem("namespace", show(namespace) + " (expected: a namespace name, or empty for the pod's own)");
    }
    String portName = "";
    int portNumber = 0;
    Object port = k8s.has("port") ? k8s.json.getValue("port") : null;
    if (port == null) {
      k8s.problem("port", "missing (required: the Service port's name or the pods' port number)");
    } else if (port instanceof String text) {
      portName = text;
      if (!PORT_NAME.matcher(text).matches()) {
        k8s.problem("port", show(text) + " (expected: a port name, lower-case letters, digits and '-', "
            + "at most 15 characters, or a port number)");
      }
    } else {
      portNumber = k8s.integer("port", 0, 1, 65535);
    }
    String apiServer = k8s.string("apiServer", "");
    if (!apiServer.isEmpty() && !apiServer.matches("https?://[^\\s/]+/?")) {
      k8s.problem("apiServer", show(apiServer) + " (expected: http(s)://host:port, or empty for the pod's service account)");
    }
    return new KubernetesDiscoveryConfig(service == null ? "" : service, namespace, portName, portNumber, apiServer);
  }

  /** {@code upstreams[].tls}; with DNS discovery the name looked up is the default serverName, as endpoints are its addresses. */
  private static UpstreamTlsConfig readUpstreamTls(Reader r, DiscoveryConfig discovery) {
    r.checkKeys("enabled", "serverName", "caFile", "verify", "certFile", "keyFile");
    boolean enabled = r.bool("enabled", false);
    String serverName = r.string("serverName", "");
    if (!serverName.isEmpty() && !serverName.matches("[A-Za-z0-9.*-]+|[0-9A-Fa-f:.]+")) {
      r.problem("serverName", show(serverName) + " (expected: a host name or IP address)");
    }
    if (enabled && serverName.isEmpty() && discovery instanceof DnsDiscoveryConfig dns && !dns.name().isEmpty()) {
      serverName = dns.name().endsWith(".") ? dns.name().substring(0, dns.name().length() - 1) : dns.name(); // SNI has no root dot
    }
    Path caFile = optionalFile(r, "caFile");
    boolean verify = r.bool("verify", true);
    Path certFile = optionalFile(r, "certFile");
    Path keyFile = optionalFile(r, "keyFile");
    if ((certFile == null) != (keyFile == null)) {
      r.problem(certFile == null ? "certFile" : "keyFile",
          "missing (expected: certFile and keyFile together, for a client certificate)");
    }
    return new UpstreamTlsConfig(enabled, serverName, caFile, verify, certFile, keyFile);
  }

  /** A file named under {@code key}, or null when the key is absent or empty; reported when unreadable. */
  private static Path optionalFile(Reader r, String key) {
    String value = r.string(key, "");
    return value.isEmpty() ? null : readableFile(r, key);
  }

  private static List<Endpoint> readEndpoints(Reader r) {
    List<Item> items = r.strings("endpoints", true);
    if (items != null && items.isEmpty()) {
      r.problem("endpoints", "[] (expected: at least one host:port)");
    }
    Set<Endpoint> endpoints = new LinkedHashSet<>();
    for (Item item : items == null ? List.<Item>of() : items) {
      try {
        Endpoint endpoint = parseEndpoint(item.value());
        if (!endpoints.add(endpoint)) {
          r.report(item.path(), "duplicate endpoint " + show(endpoint.toString()));
        }
      } catch (IllegalArgumentException e) {
        r.report(item.path(), show(item.value()) + " (expected: " + e.getMessage() + ")");
      }
    }
    return List.copyOf(endpoints);
  }

  /**
   * Parses {@code host:port}, IPv6 literals in brackets ({@code [::1]:9001}).
   *
   * @throws IllegalArgumentException whose message says what was expected
   */
  static Endpoint parseEndpoint(String text) {
    if (text.contains("://")) {
      throw new IllegalArgumentException("host:port without a scheme");
    }
    String host;
    String port;
    if (text.startsWith("[")) {
      int close = text.indexOf(']');
      if (close < 0 || !text.startsWith("]:", close)) {
        throw new IllegalArgumentException("host:port");
      }
      host = text.substring(1, close);
      port = text.substring(close + 2);
      if (!IPV6.matcher(host).matches()) {
        throw new IllegalArgumentException("host:port with an IPv6 address in brackets");
      }
    } else {
      int colon = text.lastIndexOf(':');
      if (colon < 0) {
        throw new IllegalArgumentException("host:port");
      }
      host = text.substring(0, colon);
      port = text.substring(colon + 1);
      if (host.indexOf(':') >= 0) {
        throw new IllegalArgumentException("host:port with an IPv6 address in brackets");
      }
      if (!HOST_NAME.matcher(host).matches()) {
        throw new IllegalArgumentException("host:port");
      }
    }
    if (!port.matches("[0-9]{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
      throw new IllegalArgumentException("host:port with port 1..65535");
    }
    return new Endpoint(host, Integer.parseInt(port));
  }

  private static LoadBalancing readLoadBalancer(Reader r) {
    String value = r.string("loadBalancer", UpstreamConfig.DEFAULT_LOAD_BALANCER.jsonName());
    LoadBalancing loadBalancer = LoadBalancing.fromJson(value);
    if (loadBalancer == null) {
      List<String> names = new ArrayList<>();
      for (LoadBalancing lb : LoadBalancing.values()) {
        names.add(lb.jsonName());
      }
      r.problem("loadBalancer", show(value) + " (expected: one of " + String.join(", ", names) + ")");
      return UpstreamConfig.DEFAULT_LOAD_BALANCER;
    }
    return loadBalancer;
  }

  private static PoolConfig readPool(Reader r) {
    r.checkKeys("maxConnectionsPerEndpoint", "maxConnectionsTotal", "maxPendingRequests", "pendingTimeoutMs",
        "idleTimeoutMs", "maxLifetimeMs", "maxRequestsPerConnection", "connectTimeoutMs", "keepAliveLearning",
        "connectRate", "warmup");
    return new PoolConfig(
        r.integer("maxConnectionsPerEndpoint", PoolConfig.DEFAULT_MAX_CONNECTIONS_PER_ENDPOINT, 1, Integer.MAX_VALUE),
        r.integer("maxConnectionsTotal", PoolConfig.DEFAULT_MAX_CONNECTIONS_TOTAL, 0, Integer.MAX_VALUE),
        r.integer("maxPendingRequests", PoolConfig.DEFAULT_MAX_PENDING_REQUESTS, 0, Integer.MAX_VALUE),
        r.duration("pendingTimeoutMs", PoolConfig.DEFAULT_PENDING_TIMEOUT, true),
        r.duration("idleTimeoutMs", PoolConfig.DEFAULT_IDLE_TIMEOUT, true),
        r.duration("maxLifetimeMs", PoolConfig.DEFAULT_MAX_LIFETIME, false),
        r.integer("maxRequestsPerConnection", PoolConfig.DEFAULT_MAX_REQUESTS_PER_CONNECTION, 0, Integer.MAX_VALUE),
        r.duration("connectTimeoutMs", PoolConfig.DEFAULT_CONNECT_TIMEOUT, true),
        readKeepAliveLearning(r.object("keepAliveLearning")),
        readConnectRate(r.object("connectRate")),
        readWarmup(r.object("warmup")));
  }

  private static KeepAliveLearningConfig readKeepAliveLearning(Reader r) {
    r.checkKeys("enabled", "minIdleTimeoutMs");
    return new KeepAliveLearningConfig(r.bool("enabled", KeepAliveLearningConfig.DEFAULT_ENABLED),
        r.duration("minIdleTimeoutMs", KeepAliveLearningConfig.DEFAULT_MIN_IDLE_TIMEOUT, true));
  }

  private static ConnectRateConfig readConnectRate(Reader r) {
    r.checkKeys("perSecond", "burst");
    return new ConnectRateConfig(
        r.integer("perSecond", ConnectRateConfig.DEFAULT_PER_SECOND, 0, ConnectRateConfig.MAX),
        r.integer("burst", ConnectRateConfig.DEFAULT_BURST, 1, ConnectRateConfig.MAX));
  }

  private static WarmupConfig readWarmup(Reader r) {
    r.checkKeys("percent", "timeoutMs");
    return new WarmupConfig(r.integer("percent", WarmupConfig.DEFAULT_PERCENT, 0, 100),
        r.duration("timeoutMs", WarmupConfig.DEFAULT_TIMEOUT, true));
  }

  private static TcpKeepAliveConfig readTcpKeepAlive(Reader r) {
    r.checkKeys("enabled", "idleSeconds", "intervalSeconds", "probes", "userTimeoutMs");
    return new TcpKeepAliveConfig(
        r.bool("enabled", TcpKeepAliveConfig.DEFAULT_ENABLED),
        r.integer("idleSeconds", TcpKeepAliveConfig.DEFAULT_IDLE_SECONDS, 1, 32767),
        r.integer("intervalSeconds", TcpKeepAliveConfig.DEFAULT_INTERVAL_SECONDS, 1, 32767),
        r.integer("probes", TcpKeepAliveConfig.DEFAULT_PROBES, 1, 127),
        r.duration("userTimeoutMs", TcpKeepAliveConfig.DEFAULT_USER_TIMEOUT, false));
  }

  private static HealthCheckConfig readHealthCheck(Reader r) {
    r.checkKeys("path", "intervalMs", "timeoutMs", "unhealthyThreshold", "healthyThreshold");
    int mark = r.problemCount();
    String path = r.string("path", HealthCheckConfig.DEFAULT_PATH);
    if (!path.isEmpty() && !path.startsWith("/")) {
      r.problem("path", show(path) + " (expected: empty or starting with \"/\")");
    }
    Duration interval = r.duration("intervalMs", HealthCheckConfig.DEFAULT_INTERVAL, true);
    Duration timeout = r.duration("timeoutMs", HealthCheckConfig.DEFAULT_TIMEOUT, true);
    if (r.problemCount() == mark && timeout.compareTo(interval) > 0) {
      r.problem("timeoutMs", timeout.toMillis() + " (expected: <= intervalMs " + interval.toMillis() + ")");
    }
    return new HealthCheckConfig(
        path,
        interval,
        timeout,
        r.integer("unhealthyThreshold", HealthCheckConfig.DEFAULT_UNHEALTHY_THRESHOLD, 1, Integer.MAX_VALUE),
        r.integer("healthyThreshold", HealthCheckConfig.DEFAULT_HEALTHY_THRESHOLD, 1, Integer.MAX_VALUE));
  }

  private static RouteConfig readRoute(Reader r, Set<String> upstreamNames, Map<String, String> namePaths) {
    r.checkKeys("name", "match", "upstream", "stripPrefix", "hostRewrite", "streamIdleTimeoutMs");
    String name = r.string("name", "route-" + r.index());
    r.uniqueName("name", name, "route", namePaths);
    RouteConfig.Match match = readMatch(r.object("match"));
    String upstream = r.requiredString("upstream");
    if (upstream != null && !upstreamNames.contains(upstream)) {
      r.problem("upstream", "no upstream named " + show(upstream));
    }
    String stripPrefix = r.string("stripPrefix", "");
    if (!stripPrefix.isEmpty() && !stripPrefix.startsWith("/")) {
      r.problem("stripPrefix", show(stripPrefix) + " (expected: empty or starting with \"/\")");
    }
    String hostRewrite = r.string("hostRewrite", "");
    if (!hostRewrite.isEmpty() && !HOST_HEADER.matcher(hostRewrite).matches()) {
      r.problem("hostRewrite", show(hostRewrite) + " (expected: empty or host[:port])");
    }
    Duration streamIdleTimeout = r.has("streamIdleTimeoutMs") ? r.duration("streamIdleTimeoutMs", null, false) : null;
    return new RouteConfig(name, match, upstream, stripPrefix, hostRewrite, streamIdleTimeout);
  }

  private static RouteConfig.Match readMatch(Reader r) {
    r.checkKeys("host", "pathPrefix", "methods");
    String host = r.string("host", "").toLowerCase(Locale.ROOT);
    if (!host.isEmpty() && !MATCH_HOST.matcher(host).matches()) {
      r.problem("host", show(host) + " (expected: empty, a host name or *.domain)");
    }
    String pathPrefix = r.string("pathPrefix", RouteConfig.Match.DEFAULT_PATH_PREFIX);
    if (!pathPrefix.startsWith("/")) {
      r.problem("pathPrefix", show(pathPrefix) + " (expected: starting with \"/\")");
    }
    Set<String> methods = new LinkedHashSet<>();
    List<Item> items = r.strings("methods", false);
    for (Item item : items == null ? List.<Item>of() : items) {
      if (METHOD.matcher(item.value()).matches()) {
        methods.add(item.value().toUpperCase(Locale.ROOT));
      } else {
        r.report(item.path(), show(item.value()) + " (expected: an HTTP method such as GET)");
      }
    }
    return new RouteConfig.Match(host, pathPrefix, methods);
  }

  /**
   * The {@code host:port} strings of an optional array; each bad one reported at its path. With
   * {@code addressesOnly} the host must be an IP literal (a DNS server is not found by name).
   */
  private static List<Endpoint> hostPorts(Reader r, List<Item> items, boolean addressesOnly) {
    List<Endpoint> endpoints = new ArrayList<>();
    for (Item item : items == null ? List.<Item>of() : items) {
      try {
        Endpoint endpoint = parseEndpoint(item.value());
        if (addressesOnly && !NetUtil.isValidIpV4Address(endpoint.host()) && !NetUtil.isValidIpV6Address(endpoint.host())) {
          throw new IllegalArgumentException("ip:port");
        }
        endpoints.add(endpoint);
      } catch (IllegalArgumentException e) {
        r.report(item.path(), show(item.value()) + " (expected: " + e.getMessage() + ")");
      }
    }
    return endpoints;
  }

  private static ClusterConfig readCluster(Reader r) {
    r.checkKeys("enabled", "name", "host", "port", "members", "kubernetes", "leaseMs");
    boolean enabled = r.bool("enabled", ClusterConfig.DEFAULT_ENABLED);
    String name = r.string("name", ClusterConfig.DEFAULT_NAME);
    if (!NAME.matcher(name).matches()) {
      r.problem("name", show(name) + " (expected: " + NAME_EXPECTED + ")");
    }
    String host = r.string("host", ClusterConfig.DEFAULT_HOST);
    if (host.contains(" ") || host.contains("/") || host.equals("0.0.0.0")) {
      r.problem("host", show(host) + " (expected: empty or one interface address, not 0.0.0.0)");
    }
    int port = r.integer("port", ClusterConfig.DEFAULT_PORT, 1, 65535);
    List<Item> items = r.strings("members", false);
    List<Endpoint> members = hostPorts(r, items, false);
    Reader kubernetes = r.object("kubernetes");
    kubernetes.checkKeys("serviceDns");
    String serviceDns = kubernetes.string("serviceDns", "");
    if (enabled && members.isEmpty() && serviceDns.isEmpty() && (items == null || items.isEmpty())) {
      r.problem("members", "[] (expected: members, or kubernetes.serviceDns, when the cluster is enabled)");
    }
    Duration lease = r.duration("leaseMs", ClusterConfig.DEFAULT_LEASE, true);
    if (lease.compareTo(Duration.ofSeconds(1)) < 0) {
      r.problem("leaseMs", lease.toMillis() + " (expected: >= 1000, several lease renewals of 250 ms)");
    }
    return new ClusterConfig(enabled, name, host, port, members, serviceDns, lease);
  }


  // ---------------------------------------------------------------------------------------------
  // Writing

  private static JsonObject serverJson(ServerConfig s) {
    return new JsonObject()
        .put("host", s.host())
        .put("port", s.port())
        .put("idleTimeoutMs", s.idleTimeout().toMillis())
        .put("headerReadTimeoutMs", s.headerReadTimeout().toMillis())
        .put("maxHeaderBytes", s.maxHeaderBytes())
        .put("maxRequestLineBytes", s.maxRequestLineBytes())
        .put("drainTimeoutMs", s.drainTimeout().toMillis())
        .put("eventLoops", s.eventLoops())
        .put("maxConnections", s.maxConnections())
        .put("sendTimeoutMs", s.sendTimeout().toMillis())
        .put("responseBufferBytes", s.responseBufferBytes())
        .put("socketSendBufferBytes", s.socketSendBufferBytes())
        .put("tls", tlsJson(s.tls()))
        .put("proxyProtocol", new JsonObject().put("enabled", s.proxyProtocol().enabled())
            .put("trustedCidrs", new JsonArray(List.copyOf(s.proxyProtocol().trustedCidrs()))))
        .put("http2", new JsonObject().put("enabled", s.http2().enabled()).put("h2c", s.http2().h2c())
            .put("maxConcurrentStreams", s.http2().maxConcurrentStreams()));
  }

  private static JsonObject upstreamJson(UpstreamConfig u) {
    JsonArray endpoints = new JsonArray();
    u.endpoints().forEach(endpoint -> endpoints.add(endpoint.toString()));
    PoolConfig p = u.pool();
    TcpKeepAliveConfig k = u.tcpKeepAlive();
    HealthCheckConfig h = u.healthCheck();
    JsonObject json = new JsonObject().put("name", u.name());
    if (u.discovery() == null) {
      json.put("endpoints", endpoints);
    } else {
      json.put("discovery", discoveryJson(u.discovery()));
    }
    if (u.protocol().http2()) { // the PING probe exists for HTTP/2 upstreams only
      json.put("http2Ping", new JsonObject()
          .put("intervalMs", u.http2Ping().interval().toMillis())
          .put("timeoutMs", u.http2Ping().timeout().toMillis()));
    }
    return json
        .put("loadBalancer", u.loadBalancer().jsonName())
        .put("pool", new JsonObject()
            .put("maxConnectionsPerEndpoint", p.maxConnectionsPerEndpoint())
            .put("maxConnectionsTotal", p.maxConnectionsTotal())
            .put("maxPendingRequests", p.maxPendingRequests())
            .put("pendingTimeoutMs", p.pendingTimeout().toMillis())
            .put("idleTimeoutMs", p.idleTimeout().toMillis())
            .put("maxLifetimeMs", p.maxLifetime().toMillis())
            .put("maxRequestsPerConnection", p.maxRequestsPerConnection())
            .put("connectTimeoutMs", p.connectTimeout().toMillis())
            .put("keepAliveLearning", new JsonObject()
                .put("enabled", p.keepAliveLearning().enabled())
                .put("minIdleTimeoutMs", p.keepAliveLearning().minIdleTimeout().toMillis()))
            .put("connectRate", new JsonObject()
                .put("perSecond", p.connectRate().perSecond())
                .put("burst", p.connectRate().burst()))
            .put("warmup", new JsonObject()
                .put("percent", p.warmup().percent())
                .put("timeoutMs", p.warmup().timeout().toMillis())))
        .put("tcpKeepAlive", new JsonObject()
            .put("enabled", k.enabled())
            .put("idleSeconds", k.idleSeconds())
            .put("intervalSeconds", k.intervalSeconds())
            .put("probes", k.probes())
            .put("userTimeoutMs", k.userTimeout().toMillis()))
        .put("retryBudget", new JsonObject()
            .put("enabled", u.retryBudget().enabled())
            .put("percent", u.retryBudget().percent())
            .put("minPerSecond", u.retryBudget().minPerSecond()))
        .put("responseTimeoutMs", u.responseTimeout().toMillis())
        .put("perTryTimeoutMs", u.perTryTimeout().toMillis())
        .put("slowStartMs", u.slowStart().toMillis())
        .put("protocol", u.protocol().jsonName())
        .put("tls", new JsonObject()
            .put("enabled", u.tls().enabled())
            .put("serverName", u.tls().serverName())
            .put("caFile", u.tls().caFile() == null ? "" : u.tls().caFile().toString())
            .put("verify", u.tls().verify())
            .put("certFile", u.tls().certFile() == null ? "" : u.tls().certFile().toString())
            .put("keyFile", u.tls().keyFile() == null ? "" : u.tls().keyFile().toString()))
        .put("healthCheck", new JsonObject()
            .put("path", h.path())
            .put("intervalMs", h.interval().toMillis())
            .put("timeoutMs", h.timeout().toMillis())
            .put("unhealthyThreshold", h.unhealthyThreshold())
            .put("healthyThreshold", h.healthyThreshold()));
  }

  private static JsonObject discoveryJson(DiscoveryConfig discovery) {
    if (discovery instanceof DnsDiscoveryConfig dns) {
      return new JsonObject().put("dns", new JsonObject()
          .put("name", dns.name())
          .put("port", dns.port())
          .put("refreshMs", dns.refresh().toMillis())
          .put("servers", new JsonArray(dns.servers().stream().map(e -> (Object) e.toString()).toList())));
    }
    KubernetesDiscoveryConfig k8s = (KubernetesDiscoveryConfig) discovery;
    return new JsonObject().put("kubernetes", new JsonObject()
        .put("service", k8s.service())
        .put("namespace", k8s.namespace())
        .put("port", k8s.port())
        .put("apiServer", k8s.apiServer()));
  }

  private static JsonObject routeJson(RouteConfig r) {
    JsonArray methods = new JsonArray();
    r.match().methods().stream().sorted().forEach(methods::add);
    JsonObject json = new JsonObject();
    if (r.streamIdleTimeout() != null) {
      json.put("streamIdleTimeoutMs", r.streamIdleTimeout().toMillis());
    }
    return json
        .put("name", r.name())
        .put("match", new JsonObject()
            .put("host", r.match().host())
            .put("pathPrefix", r.match().pathPrefix())
            .put("methods", methods))
        .put("upstream", r.upstream())
        .put("stripPrefix", r.stripPrefix())
        .put("hostRewrite", r.hostRewrite());
  }

  /** File paths only: key material never leaves the files. */
  private static JsonObject tlsJson(TlsConfig t) {
    return new JsonObject()
        .put("enabled", t.enabled())
        .put("port", t.port())
        .put("certificates", new JsonArray(t.certificates().stream().map(c -> (Object) new JsonObject()
            .put("certFile", c.certFile().toString()).put("keyFile", c.keyFile().toString())).toList()))
        .put("protocols", new JsonArray(List.copyOf(t.protocols())))
        .put("ciphers", new JsonArray(List.copyOf(t.ciphers())))
        .put("redirectCleartext", t.redirectCleartext());
  }

  private static JsonObject clusterJson(ClusterConfig c) {
    return new JsonObject()
        .put("enabled", c.enabled())
        .put("name", c.name())
        .put("host", c.host())
        .put("port", c.port())
        .put("members", new JsonArray(c.members().stream().map(m -> (Object) m.toString()).toList()))
        .put("kubernetes", new JsonObject().put("serviceDns", c.kubernetesServiceDns()))
        .put("leaseMs", c.lease().toMillis());
  }

  // ---------------------------------------------------------------------------------------------
  // Reading helpers

  /** A JSON value as it appears in a problem line: strings quoted, long values shortened. */
  private static String show(Object value) {
    String text;
    if (value instanceof JsonObject object) {
      text = object.encode();
    } else if (value instanceof JsonArray array) {
      text = array.encode();
    } else if (value instanceof String string) {
      text = Json.encode(string);
    } else {
      text = String.valueOf(value);
    }
    return text.length() <= MAX_SHOWN_CHARS ? text : text.substring(0, MAX_SHOWN_CHARS - 3) + "...";
  }

  private static boolean isFinite(Number number) {
    return !(number instanceof Double d && !Double.isFinite(d)) && !(number instanceof Float f && !Float.isFinite(f));
  }

  /** The value as an exact integral number, or {@code null} if it is not one. */
  private static BigDecimal integral(Object value) {
    if (!(value instanceof Number number) || !isFinite(number)) {
      return null;
    }
    BigDecimal decimal = number instanceof BigDecimal exact ? exact : new BigDecimal(number.toString());
    return decimal.stripTrailingZeros().scale() <= 0 ? decimal : null;
  }

  /** One element of an array of strings, with its JSON path. */
  private record Item(String path, String value) {}

  /**
   * Reads one JSON object at one JSON path, reporting every problem into the shared list and
   * falling back to the default for anything absent or invalid (the result of a document with
   * problems is discarded, so fallbacks only serve to keep reading and find further problems).
   */
  private static final class Reader {
    private final JsonObject json;
    private final String path;
    private final int index;
    private final List<String> problems;
    /** Whether files the config names must exist and be readable here. */
    private final boolean checkFiles;

    Reader(JsonObject json, String path, int index, List<String> problems, boolean checkFiles) {
      this.json = json;
      this.path = path;
      this.index = index;
      this.problems = problems;
      this.checkFiles = checkFiles;
    }

    /** The position of this object in its array, or -1. */
    int index() {
      return index;
    }

    String pathOf(String key) {
      return path.isEmpty() ? key : path + "." + key;
    }

    int problemCount() {
      return problems.size();
    }

    void problem(String key, String reason) {
      report(pathOf(key), reason);
    }

    void report(String fullPath, String reason) {
      problems.add(fullPath + ": " + reason);
    }

    void checkKeys(String... allowed) {
      Set<String> known = Set.of(allowed);
      for (String key : json.fieldNames()) {
        if (!known.contains(key)) {
          problem(key, "unknown key");
        }
      }
    }

    /** The value under {@code key} if it is present and of {@code type}; reports a wrong type. */
    private <T> T typed(String key, Class<T> type, String expected) {
      if (!json.containsKey(key)) {
        return null;
      }
      Object value = json.getValue(key);
      if (!type.isInstance(value)) {
        problem(key, show(value) + " (expected: " + expected + ")");
        return null;
      }
      return type.cast(value);
    }

    int integer(String key, int fallback, int min, int max) {
      if (!json.containsKey(key)) {
        return fallback;
      }
      Object value = json.getValue(key);
      BigDecimal number = integral(value);
      if (number == null) {
        problem(key, show(value) + " (expected: integer)");
        return fallback;
      }
      if (number.compareTo(BigDecimal.valueOf(min)) < 0 || number.compareTo(BigDecimal.valueOf(max)) > 0) {
        problem(key, show(value) + " (expected: " + range(min, max, number) + ")");
        return fallback;
      }
      return number.intValueExact();
    }

    private static String range(int min, int max, BigDecimal value) {
      if (max != Integer.MAX_VALUE) {
        return min + ".." + max;
      }
      if (value.compareTo(BigDecimal.valueOf(max)) > 0) {
        return "<= " + max;
      }
      return min == 1 ? "> 0" : ">= " + min;
    }

    /** Milliseconds under {@code key}; {@code positive} rejects zero. */
    Duration duration(String key, Duration fallback, boolean positive) {
      int millis = integer(key, -1, positive ? 1 : 0, Integer.MAX_VALUE);
      return millis < 0 ? fallback : Duration.ofMillis(millis);
    }

    boolean bool(String key, boolean fallback) {
      Boolean value = typed(key, Boolean.class, "boolean");
      return value == null ? fallback : value;
    }

    boolean has(String key) {
      return json.containsKey(key);
    }

    String string(String key, String fallback) {
      String value = typed(key, String.class, "string");
      return value == null ? fallback : value;
    }

    /** A string that must be present; {@code null} (reported) when it is absent or not a string. */
    String requiredString(String key) {
      if (!json.containsKey(key)) {
        problem(key, "missing (required)");
      }
      return typed(key, String.class, "string");
    }

    /** A host to bind: non-empty, no spaces, no slashes. */
    String listenHost(String key, String fallback) {
      String host = string(key, fallback);
      if (host.isEmpty() || !host.matches("[A-Za-z0-9._:%-]+")) {
        problem(key, show(host) + " (expected: host name or IP address)");
        return fallback;
      }
      return host;
    }

    /**
     * Checks a name used as a metric label: allowed characters and uniqueness among
     * {@code seen} (name to the JSON path of the object that first used it), then records it
     * there, even when invalid, so that references to it do not add a second problem.
     */
    void uniqueName(String key, String name, String kind, Map<String, String> seen) {
      String earlier = seen.putIfAbsent(name, path);
      if (!NAME.matcher(name).matches()) {
        problem(key, show(name) + " (expected: " + NAME_EXPECTED + ")");
      } else if (earlier != null) {
        problem(key, "duplicate " + kind + " name " + show(name) + " (also at " + earlier + ")");
      }
    }

    /** The object under {@code key}; an empty one when absent or (reported) not an object. */
    Reader object(String key) {
      JsonObject value = typed(key, JsonObject.class, "object");
      return new Reader(value == null ? new JsonObject() : value, pathOf(key), -1, problems, checkFiles);
    }

    /**
     * Reads each object of the array under {@code key}, in order; elements that are not objects
     * are reported and skipped. Nothing happens when the array is absent.
     */
    void forEachObject(String key, Consumer<Reader> action) {
      JsonArray array = typed(key, JsonArray.class, "array of objects");
      for (int i = 0; array != null && i < array.size(); i++) {
        String elementPath = pathOf(key) + "[" + i + "]";
        Object element = array.getValue(i);
        if (element instanceof JsonObject object) {
          action.accept(new Reader(object, elementPath, i, problems, checkFiles));
        } else {
          report(elementPath, show(element) + " (expected: object)");
        }
      }
    }

    /**
     * The strings of the array under {@code key}, each with its path; elements that are not strings
     * are reported and skipped. {@code null} when the array is absent or not an array.
     */
    List<Item> strings(String key, boolean required) {
      if (required && !json.containsKey(key)) {
        problem(key, "missing (required)");
      }
      JsonArray array = typed(key, JsonArray.class, "array of strings");
      if (array == null) {
        return null;
      }
      List<Item> items = new ArrayList<>();
      for (int i = 0; i < array.size(); i++) {
        String elementPath = pathOf(key) + "[" + i + "]";
        Object element = array.getValue(i);
        if (element instanceof String text) {
          items.add(new Item(elementPath, text));
        } else {
          report(elementPath, show(element) + " (expected: string)");
        }
      }
      return items;
    }
  }
}
