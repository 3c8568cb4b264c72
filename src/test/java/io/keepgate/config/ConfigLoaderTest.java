package io.keepgate.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  /** The example of SPEC section 2, verbatim. */
  private static final String SPEC_EXAMPLE = """
      {
        "server":  { "host": "0.0.0.0", "port": 8080, "idleTimeoutMs": 60000,
                     "headerReadTimeoutMs": 10000, "maxHeaderBytes": 16384, "drainTimeoutMs": 20000 },
        "admin":   { "host": "127.0.0.1", "port": 9901 },
        "upstreams": [
          { "name": "api",
            "endpoints": ["127.0.0.1:9001", "127.0.0.1:9002"],
            "loadBalancer": "round-robin",
            "pool": { "maxConnectionsPerEndpoint": 64, "maxConnectionsTotal": 0,
                      "maxPendingRequests": 1024, "pendingTimeoutMs": 5000,
                      "idleTimeoutMs": 30000, "maxLifetimeMs": 0, "maxRequestsPerConnection": 0,
                      "connectTimeoutMs": 2000 },
            "tcpKeepAlive": { "enabled": true, "idleSeconds": 30, "intervalSeconds": 10, "probes": 3 },
            "responseTimeoutMs": 30000,
            "healthCheck": { "path": "/healthz", "intervalMs": 5000, "timeoutMs": 1000,
                             "unhealthyThreshold": 3, "healthyThreshold": 2 } }
        ],
        "routes": [
          { "name": "api-v1",
            "match": { "host": "api.example.com", "pathPrefix": "/v1/", "methods": ["GET", "POST"] },
            "upstream": "api", "stripPrefix": "/v1" }
        ],
        "cluster": { "enabled": false, "name": "keepgate", "port": 5701,
                     "members": ["127.0.0.1:5701"], "kubernetes": { "serviceDns": "" } }
      }
      """;

  /** Single quotes stand for double quotes, to keep the documents below readable. */
  private static String json(String singleQuoted) {
    return singleQuoted.replace('\'', '"');
  }

  /** A document with one valid upstream "api" whose extra keys are {@code upstreamExtra}. */
  private static String withUpstream(String upstreamExtra) {
    String extra = upstreamExtra.isEmpty() ? "" : "," + upstreamExtra;
    return json("{'upstreams':[{'name':'api','endpoints':['127.0.0.1:9001']" + extra + "}]}");
  }

  /** A document with upstream "api" and one route made of {@code routeFields}. */
  private static String withRoute(String routeFields) {
    return json("{'upstreams':[{'name':'api','endpoints':['127.0.0.1:9001']}],'routes':[{" + routeFields + "}]}");
  }

  private static List<String> problems(String document) {
    return assertThrows(ConfigException.class, () -> ConfigLoader.parse(document)).problems();
  }

  private static void assertProblems(String document, String... expected) {
    assertEquals(List.of(expected), problems(document));
  }

  private static GatewayConfig valid(String document) {
    try {
      return ConfigLoader.parse(document);
    } catch (ConfigException e) {
      throw new AssertionError("unexpected problems:\n" + e.getMessage(), e);
    }
  }

  // --- valid documents --------------------------------------------------------------------------

  @Test
  void emptyObjectIsValidWithNoUpstreamsAndNoRoutes() {
    GatewayConfig config = valid("{}");
    assertEquals(List.of(), config.upstreams());
    assertEquals(List.of(), config.routes());
  }

  @Test
  void minimalConfigGetsEveryDefault() {
    GatewayConfig config = valid(json(
        "{'upstreams':[{'name':'api','endpoints':['127.0.0.1:9001']}],'routes':[{'upstream':'api'}]}"));

    assertEquals(new ServerConfig(ServerConfig.DEFAULT_HOST, ServerConfig.DEFAULT_PORT,
        ServerConfig.DEFAULT_IDLE_TIMEOUT, ServerConfig.DEFAULT_HEADER_READ_TIMEOUT,
        ServerConfig.DEFAULT_MAX_HEADER_BYTES, ServerConfig.DEFAULT_MAX_REQUEST_LINE_BYTES,
        ServerConfig.DEFAULT_DRAIN_TIMEOUT, ServerConfig.DEFAULT_EVENT_LOOPS, ServerConfig.DEFAULT_MAX_CONNECTIONS,
        ServerConfig.DEFAULT_SEND_TIMEOUT, ServerConfig.DEFAULT_RESPONSE_BUFFER_BYTES,
        ServerConfig.DEFAULT_SOCKET_SEND_BUFFER_BYTES, TlsConfig.DISABLED, ProxyProtocolConfig.DISABLED,
        Http2Config.DEFAULT), config.server());
    assertEquals(new AdminConfig(AdminConfig.DEFAULT_HOST, AdminConfig.DEFAULT_PORT), config.admin());
    assertEquals(new AccessLogConfig(AccessLogConfig.DEFAULT_ENABLED), config.accessLog());
    assertEquals(new ClusterConfig(ClusterConfig.DEFAULT_ENABLED, ClusterConfig.DEFAULT_NAME,
        ClusterConfig.DEFAULT_HOST, ClusterConfig.DEFAULT_PORT, List.of(), "", ClusterConfig.DEFAULT_LEASE),
        config.cluster());

    UpstreamConfig upstream = config.upstreams().get(0);
    assertEquals(new UpstreamConfig("api", List.of(new Endpoint("127.0.0.1", 9001)),
        UpstreamConfig.DEFAULT_LOAD_BALANCER,
        new PoolConfig(PoolConfig.DEFAULT_MAX_CONNECTIONS_PER_ENDPOINT, PoolConfig.DEFAULT_MAX_CONNECTIONS_TOTAL,
            PoolConfig.DEFAULT_MAX_PENDING_REQUESTS, PoolConfig.DEFAULT_PENDING_TIMEOUT,
            PoolConfig.DEFAULT_IDLE_TIMEOUT, PoolConfig.DEFAULT_MAX_LIFETIME,
            PoolConfig.DEFAULT_MAX_REQUESTS_PER_CONNECTION, PoolConfig.DEFAULT_CONNECT_TIMEOUT,
            KeepAliveLearningConfig.DEFAULT, ConnectRateConfig.OFF, WarmupConfig.OFF),
        new TcpKeepAliveConfig(TcpKeepAliveConfig.DEFAULT_ENABLED, TcpKeepAliveConfig.DEFAULT_IDLE_SECONDS,
            TcpKeepAliveConfig.DEFAULT_INTERVAL_SECONDS, TcpKeepAliveConfig.DEFAULT_PROBES,
            TcpKeepAliveConfig.DEFAULT_USER_TIMEOUT),
        UpstreamConfig.DEFAULT_RESPONSE_TIMEOUT, UpstreamConfig.DEFAULT_PER_TRY_TIMEOUT,
        new HealthCheckConfig(HealthCheckConfig.DEFAULT_PATH, HealthCheckConfig.DEFAULT_INTERVAL,
            HealthCheckConfig.DEFAULT_TIMEOUT, HealthCheckConfig.DEFAULT_UNHEALTHY_THRESHOLD,
            HealthCheckConfig.DEFAULT_HEALTHY_THRESHOLD), UpstreamTlsConfig.DISABLED, null, UpstreamConfig.DEFAULT_SLOW_START,
        UpstreamConfig.DEFAULT_PROTOCOL, Http2PingConfig.DEFAULT, RetryBudgetConfig.DEFAULT), upstream);

    assertEquals(List.of(new RouteConfig("route-0",
        new RouteConfig.Match("", RouteConfig.Match.DEFAULT_PATH_PREFIX, Set.of()), "api", "", "")),
        config.routes());
  }

  @Test
  void specSectionTwoExampleParses() {
    GatewayConfig config = valid(SPEC_EXAMPLE);

    assertEquals(8080, config.server().port());
    assertEquals(Duration.ofSeconds(20), config.server().drainTimeout());
    assertEquals(new AdminConfig("127.0.0.1", 9901), config.admin());
    UpstreamConfig api = config.upstream("api");
    assertEquals(List.of(new Endpoint("127.0.0.1", 9001), new Endpoint("127.0.0.1", 9002)), api.endpoints());
    assertEquals(LoadBalancing.ROUND_ROBIN, api.loadBalancer());
    assertEquals(64, api.pool().maxConnectionsPerEndpoint());
    assertEquals(Duration.ofSeconds(30), api.pool().idleTimeout());
    assertEquals(new TcpKeepAliveConfig(true, 30, 10, 3, Duration.ZERO), api.tcpKeepAlive());
    assertEquals(new HealthCheckConfig("/healthz", Duration.ofSeconds(5), Duration.ofSeconds(1), 3, 2),
        api.healthCheck());
    assertEquals(new RouteConfig("api-v1",
        new RouteConfig.Match("api.example.com", "/v1/", Set.of("GET", "POST")), "api", "/v1", ""),
        config.routes().get(0));
    assertEquals(new ClusterConfig(false, "keepgate", "", 5701, List.of(new Endpoint("127.0.0.1", 5701)), "",
        ClusterConfig.DEFAULT_LEASE), config.cluster());
  }

  @Test
  void repositoryDemoConfigParses() throws ConfigException {
    Path demo = Path.of("config/keepgate.json");
    assumeTrue(Files.exists(demo), "config/keepgate.json is not in the working directory");

    GatewayConfig config = ConfigLoader.load(demo);

    assertEquals(new AdminConfig("127.0.0.1", 9901), config.admin());
    assertEquals("0.0.0.0", config.server().host());
    assertEquals(8080, config.server().port());
    UpstreamConfig upstream = config.upstream("demo");
    assertEquals(List.of(new Endpoint("127.0.0.1", 9001), new Endpoint("127.0.0.1", 9002)), upstream.endpoints());
    assertEquals(8, upstream.pool().maxConnectionsPerEndpoint());
    assertEquals(new TcpKeepAliveConfig(true, 30, 10, 3, Duration.ZERO), upstream.tcpKeepAlive());
    assertEquals(List.of("api", "demo"), config.routes().stream().map(RouteConfig::name).toList());
    assertEquals("/api", config.routes().get(0).stripPrefix());
  }

  @Test
  void toJsonRoundTripsToAnEqualConfig() throws ConfigException {
    String custom = json("""
        {'server':{'port':0,'eventLoops':2,'maxRequestLineBytes':4096},
         'admin':{'host':'::1','port':0},
         'accessLog':{'enabled':false},
         'upstreams':[{'name':'v6','endpoints':['[::1]:9001','backend.local:80'],'loadBalancer':'least-requests',
                       'pool':{'maxLifetimeMs':600000,'maxRequestsPerConnection':1000},
                       'tcpKeepAlive':{'enabled':false,'userTimeoutMs':45000},'responseTimeoutMs':1500}],
         'routes':[{'match':{'host':'*.Example.COM','methods':['get','delete']},'upstream':'v6',
                    'hostRewrite':'backend.local:80'}],
         'cluster':{'members':['10.0.0.1:5701','10.0.0.2:5701'],'kubernetes':{'serviceDns':'kg.svc'}}}
        """);
    for (String document : List.of(SPEC_EXAMPLE, custom, "{}")) {
      GatewayConfig config = ConfigLoader.parse(document);
      assertEquals(config, ConfigLoader.parse(ConfigLoader.toJson(config).encode()));
    }
  }

  @Test
  void toJsonWritesEveryKeyIncludingDefaults() {
    JsonObject json = ConfigLoader.toJson(valid(withUpstream("")));

    assertEquals(Set.of("server", "admin", "accessLog", "upstreams", "routes", "cluster"), json.fieldNames());
    assertEquals(Set.of("host", "port", "idleTimeoutMs", "headerReadTimeoutMs", "maxHeaderBytes",
        "maxRequestLineBytes", "drainTimeoutMs", "eventLoops", "maxConnections", "sendTimeoutMs", "responseBufferBytes",
        "socketSendBufferBytes", "tls", "proxyProtocol", "http2"),
        json.getJsonObject("server").fieldNames());
    assertEquals(new JsonObject().put("enabled", true).put("h2c", true).put("maxConcurrentStreams", 100),
        json.getJsonObject("server").getJsonObject("http2"));
    assertEquals(60000L, json.getJsonObject("server").getLong("idleTimeoutMs"));
    JsonObject upstream = json.getJsonArray("upstreams").getJsonObject(0);
    assertEquals("round-robin", upstream.getString("loadBalancer"));
    assertEquals(30000L, upstream.getJsonObject("pool").getLong("idleTimeoutMs"));
    assertEquals(3, upstream.getJsonObject("tcpKeepAlive").getInteger("probes"));
    assertEquals("", upstream.getJsonObject("healthCheck").getString("path"));
    assertEquals("", json.getJsonObject("cluster").getJsonObject("kubernetes").getString("serviceDns"));
  }

  @Test
  void ipv6EndpointsInBracketsAreAccepted() {
    UpstreamConfig upstream = valid(json("{'upstreams':[{'name':'a','endpoints':['[::1]:9001','[fe80::1%eth0]:80']}]}"))
        .upstreams().get(0);
    assertEquals(List.of(new Endpoint("::1", 9001), new Endpoint("fe80::1%eth0", 80)), upstream.endpoints());
    assertEquals("[::1]:9001", upstream.endpoints().get(0).toString());
  }

  @Test
  void methodsAreNormalizedToUpperCaseAndHostToLowerCase() {
    RouteConfig.Match match = valid(withRoute("'upstream':'api','match':{'host':'*.Example.COM','methods':['get','Post']}"))
        .routes().get(0).match();
    assertEquals(Set.of("GET", "POST"), match.methods());
    assertEquals("*.example.com", match.host());
  }

  @Test
  void integralNumbersWrittenWithAFractionOrExponentAreIntegers() {
    assertEquals(8081, valid(json("{'server':{'port':8081.0}}")).server().port());
    assertEquals(Duration.ofSeconds(1), valid(json("{'server':{'drainTimeoutMs':1e3}}")).server().drainTimeout());
  }

  @Test
  void portZeroPicksAFreePortForServerAndAdmin() {
    GatewayConfig config = valid(json("{'server':{'port':0},'admin':{'port':0}}"));
    assertEquals(0, config.server().port());
    assertEquals(0, config.admin().port());
  }

  // --- syntax and document shape ----------------------------------------------------------------

  @Test
  void invalidJsonIsOneLineNamingTheParserMessageAndPosition() {
    List<String> problems = problems("{\"server\": }");
    assertEquals(1, problems.size());
    assertTrue(problems.get(0).startsWith("<config>: invalid JSON: Unexpected character ('}'"), problems.get(0));
    assertTrue(problems.get(0).endsWith("(line 1, column 12)"), problems.get(0));
    assertFalse(problems.get(0).contains("\n"));
  }

  @Test
  void emptyDocumentIsInvalidJson() {
    assertProblems("  ", "<config>: invalid JSON: empty document");
  }

  @Test
  void trailingGarbageAfterTheObjectIsInvalidJson() {
    List<String> problems = problems("{} x");
    assertEquals(1, problems.size());
    assertTrue(problems.get(0).startsWith("<config>: invalid JSON: Unrecognized token 'x'"), problems.get(0));
  }

  @Test
  void duplicateKeyInOneObjectIsInvalidJson() {
    assertProblems(json("{'server':{'port':1,\n'port':2}}"),
        "<config>: invalid JSON: Duplicate field 'port' (line 2, column 7)");
  }

  @Test
  void topLevelThatIsNotAnObjectIsRejected() {
    assertProblems("[1,2]", "<config>: [1,2] (expected: object)");
  }

  @Test
  void unknownKeysAreReportedAtEveryLevel() {
    assertProblems(json("""
        {'foo':1,'server':{'prot':8080},
         'upstreams':[{'name':'api','endpoints':['a:1'],'pool':{'maxConn':1},'tcpKeepalive':{}}],
         'routes':[{'upstream':'api','match':{'path':'/'}}],
         'cluster':{'kubernetes':{'dns':''}}}
        """),
        "foo: unknown key",
        "server.prot: unknown key",
        "upstreams[0].tcpKeepalive: unknown key",
        "upstreams[0].pool.maxConn: unknown key",
        "routes[0].match.path: unknown key",
        "cluster.kubernetes.dns: unknown key");
  }

  // --- types ------------------------------------------------------------------------------------

  @Test
  void stringWhereIntegerExpectedIsReported() {
    assertProblems(json("{'server':{'port':'80'}}"), "server.port: \"80\" (expected: integer)");
  }

  @Test
  void fractionWhereIntegerExpectedIsReported() {
    assertProblems(json("{'server':{'eventLoops':1.5}}"), "server.eventLoops: 1.5 (expected: integer)");
  }

  @Test
  void integerBeyondIntRangeIsReported() {
    assertProblems(withUpstream("'pool':{'maxPendingRequests':99999999999}"),
        "upstreams[0].pool.maxPendingRequests: 99999999999 (expected: <= 2147483647)");
  }

  @Test
  void wrongTypesForBooleanStringObjectAndArrayAreReported() {
    assertProblems(json("""
        {'accessLog':{'enabled':'yes'},'admin':{'host':9901},'cluster':[],'routes':{},
         'upstreams':[{'name':'api','endpoints':'127.0.0.1:9001'}, 7]}
        """),
        "admin.host: 9901 (expected: string)",
        "accessLog.enabled: \"yes\" (expected: boolean)",
        "upstreams[0].endpoints: \"127.0.0.1:9001\" (expected: array of strings)",
        "upstreams[1]: 7 (expected: object)",
        "routes: {} (expected: array of objects)",
        "cluster: [] (expected: object)");
  }

  @Test
  void nullIsAWrongTypeNotADefault() {
    assertProblems(json("{'server':{'host':null}}"), "server.host: null (expected: string)");
  }

  @Test
  void nonStringArrayElementsAreReportedWithTheirIndex() {
    assertProblems(json("{'upstreams':[{'name':'api','endpoints':['127.0.0.1:9001',9002]}]}"),
        "upstreams[0].endpoints[1]: 9002 (expected: string)");
  }

  @Test
  void longValuesAreShortenedInProblemLines() {
    String longHost = "h".repeat(100);
    assertProblems(json("{'server':{'port':'" + longHost + "'}}"),
        "server.port: \"" + "h".repeat(56) + "... (expected: integer)");
  }

  // --- ranges -----------------------------------------------------------------------------------

  @Test
  void negativeTimeoutIsReported() {
    assertProblems(withUpstream("'pool':{'maxLifetimeMs':-5}"),
        "upstreams[0].pool.maxLifetimeMs: -5 (expected: >= 0)");
  }

  @Test
  void zeroIsRejectedForTimeoutsThatMustBePositive() {
    assertProblems(json("""
        {'server':{'idleTimeoutMs':0,'headerReadTimeoutMs':0,'drainTimeoutMs':0},
         'upstreams':[{'name':'api','endpoints':['a:1'],
           'pool':{'pendingTimeoutMs':0,'idleTimeoutMs':0,'connectTimeoutMs':0},
           'responseTimeoutMs':0,'healthCheck':{'intervalMs':0,'timeoutMs':0}}]}
        """),
        "server.idleTimeoutMs: 0 (expected: > 0)",
        "server.headerReadTimeoutMs: 0 (expected: > 0)",
        "server.drainTimeoutMs: 0 (expected: > 0)",
        "upstreams[0].pool.pendingTimeoutMs: 0 (expected: > 0)",
        "upstreams[0].pool.idleTimeoutMs: 0 (expected: > 0)",
        "upstreams[0].pool.connectTimeoutMs: 0 (expected: > 0)",
        "upstreams[0].responseTimeoutMs: 0 (expected: > 0)",
        "upstreams[0].healthCheck.intervalMs: 0 (expected: > 0)",
        "upstreams[0].healthCheck.timeoutMs: 0 (expected: > 0)");
  }

  @Test
  void aPerTryTimeoutMustBeShorterThanTheResponseTimeout() {
    assertProblems(withUpstream("'responseTimeoutMs':1000,'perTryTimeoutMs':1000"),
        "upstreams[0].perTryTimeoutMs: 1000 (expected: 0, or less than responseTimeoutMs 1000)");
    assertEquals(Duration.ofMillis(250),
        valid(withUpstream("'responseTimeoutMs':1000,'perTryTimeoutMs':250")).upstreams().get(0).perTryTimeout());
  }

  @Test
  void zeroIsAcceptedWhereItMeansNoLimit() {
    UpstreamConfig upstream = valid(withUpstream(
        "'pool':{'maxConnectionsTotal':0,'maxPendingRequests':0,'maxLifetimeMs':0,'maxRequestsPerConnection':0},"
            + "'tcpKeepAlive':{'userTimeoutMs':0}")).upstreams().get(0);
    assertEquals(Duration.ZERO, upstream.pool().maxLifetime());
    assertEquals(0, upstream.pool().maxPendingRequests());
  }

  @Test
  void portsOutsideTheirRangeAreReported() {
    assertProblems(json("{'server':{'port':65536},'admin':{'port':-1},'cluster':{'port':0}}"),
        "server.port: 65536 (expected: 0..65535)",
        "admin.port: -1 (expected: 0..65535)",
        "cluster.port: 0 (expected: 1..65535)");
  }

  @Test
  void adminListenerNeverSharesTheProxyPort() {
    assertProblems(json("{'server':{'port':9000},'admin':{'port':9000}}"),
        "admin.port: 9000 (expected: different from server.port)");
  }

  @Test
  void serverLimitsOutsideTheirRangeAreReported() {
    assertProblems(json("{'server':{'maxHeaderBytes':1023,'maxRequestLineBytes':1048577,'eventLoops':1025}}"),
        "server.maxHeaderBytes: 1023 (expected: 1024..1048576)",
        "server.maxRequestLineBytes: 1048577 (expected: 256..1048576)",
        "server.eventLoops: 1025 (expected: 0..1024)");
  }

  @Test
  void poolLimitsOutsideTheirRangeAreReported() {
    assertProblems(withUpstream(
            "'pool':{'maxConnectionsPerEndpoint':0,'maxConnectionsTotal':-1,'maxPendingRequests':-1,"
                + "'maxRequestsPerConnection':-1}"),
        "upstreams[0].pool.maxConnectionsPerEndpoint: 0 (expected: > 0)",
        "upstreams[0].pool.maxConnectionsTotal: -1 (expected: >= 0)",
        "upstreams[0].pool.maxPendingRequests: -1 (expected: >= 0)",
        "upstreams[0].pool.maxRequestsPerConnection: -1 (expected: >= 0)");
  }

  @Test
  void tcpKeepAliveTimersOutsideKernelLimitsAreReported() {
    assertProblems(withUpstream(
            "'tcpKeepAlive':{'idleSeconds':0,'intervalSeconds':32768,'probes':128,'userTimeoutMs':-1}"),
        "upstreams[0].tcpKeepAlive.idleSeconds: 0 (expected: 1..32767)",
        "upstreams[0].tcpKeepAlive.intervalSeconds: 32768 (expected: 1..32767)",
        "upstreams[0].tcpKeepAlive.probes: 128 (expected: 1..127)",
        "upstreams[0].tcpKeepAlive.userTimeoutMs: -1 (expected: >= 0)");
  }

  @Test
  void healthCheckThresholdsBelowOneAreReported() {
    assertProblems(withUpstream("'healthCheck':{'unhealthyThreshold':0,'healthyThreshold':-2}"),
        "upstreams[0].healthCheck.unhealthyThreshold: 0 (expected: > 0)",
        "upstreams[0].healthCheck.healthyThreshold: -2 (expected: > 0)");
  }

  @Test
  void healthCheckTimeoutLongerThanItsIntervalIsReported() {
    assertProblems(withUpstream("'healthCheck':{'intervalMs':2000,'timeoutMs':3000}"),
        "upstreams[0].healthCheck.timeoutMs: 3000 (expected: <= intervalMs 2000)");
  }

  @Test
  void healthCheckPathMustStartWithSlash() {
    assertProblems(withUpstream("'healthCheck':{'path':'healthz'}"),
        "upstreams[0].healthCheck.path: \"healthz\" (expected: empty or starting with \"/\")");
  }

  // --- upstreams --------------------------------------------------------------------------------

  @Test
  void upstreamWithoutNameOrEndpointsIsReportedAsMissing() {
    assertProblems(json("{'upstreams':[{}]}"),
        "upstreams[0].name: missing (required)",
        "upstreams[0].endpoints: missing (required)");
  }

  @Test
  void emptyEndpointListIsReported() {
    assertProblems(json("{'upstreams':[{'name':'api','endpoints':[]}]}"),
        "upstreams[0].endpoints: [] (expected: at least one host:port)");
  }

  @Test
  void endpointsThatAreNotHostColonPortAreReported() {
    assertProblems(json("""
        {'upstreams':[{'name':'api','endpoints':
          ['localhost','http://a:80',':80','a b:80','a:0','a:65536','a:8o','::1:9001','[::1]9001','[zz]:80']}]}
        """),
        "upstreams[0].endpoints[0]: \"localhost\" (expected: host:port)",
        "upstreams[0].endpoints[1]: \"http://a:80\" (expected: host:port without a scheme)",
        "upstreams[0].endpoints[2]: \":80\" (expected: host:port)",
        "upstreams[0].endpoints[3]: \"a b:80\" (expected: host:port)",
        "upstreams[0].endpoints[4]: \"a:0\" (expected: host:port with port 1..65535)",
        "upstreams[0].endpoints[5]: \"a:65536\" (expected: host:port with port 1..65535)",
        "upstreams[0].endpoints[6]: \"a:8o\" (expected: host:port with port 1..65535)",
        "upstreams[0].endpoints[7]: \"::1:9001\" (expected: host:port with an IPv6 address in brackets)",
        "upstreams[0].endpoints[8]: \"[::1]9001\" (expected: host:port)",
        "upstreams[0].endpoints[9]: \"[zz]:80\" (expected: host:port with an IPv6 address in brackets)");
  }

  @Test
  void duplicateEndpointInOneUpstreamIsReported() {
    assertProblems(json("{'upstreams':[{'name':'api','endpoints':['127.0.0.1:9001','127.0.0.1:9002','127.0.0.1:9001']}]}"),
        "upstreams[0].endpoints[2]: duplicate endpoint \"127.0.0.1:9001\"");
  }

  @Test
  void sameEndpointInTwoUpstreamsIsAllowed() {
    assertEquals(2, valid(json(
        "{'upstreams':[{'name':'a','endpoints':['h:1']},{'name':'b','endpoints':['h:1']}]}")).upstreams().size());
  }

  @Test
  void duplicateUpstreamNameIsReportedOnTheLaterOne() {
    assertProblems(json("{'upstreams':[{'name':'api','endpoints':['a:1']},{'name':'api','endpoints':['b:1']}]}"),
        "upstreams[1].name: duplicate upstream name \"api\" (also at upstreams[0])");
  }

  @Test
  void upstreamNameThatCannotBeAMetricLabelIsReported() {
    assertProblems(json("{'upstreams':[{'name':'my api','endpoints':['a:1']},{'name':'','endpoints':['b:1']}]}"),
        "upstreams[0].name: \"my api\" (expected: letters, digits, '.', '_' or '-')",
        "upstreams[1].name: \"\" (expected: letters, digits, '.', '_' or '-')");
  }

  @Test
  void unknownLoadBalancerIsReportedWithTheChoices() {
    assertProblems(withUpstream("'loadBalancer':'fastest'"),
        "upstreams[0].loadBalancer: \"fastest\" (expected: one of round-robin, least-requests, random)");
  }

  // --- routes -----------------------------------------------------------------------------------

  @Test
  void routeNamingMissingUpstreamIsReportedWithItsPath() {
    assertProblems(json("""
        {'upstreams':[{'name':'api','endpoints':['a:1']}],
         'routes':[{'upstream':'api'},{'upstream':'billing'}]}
        """),
        "routes[1].upstream: no upstream named \"billing\"");
  }

  @Test
  void routeWithoutUpstreamIsReportedAsMissing() {
    assertProblems(withRoute("'name':'r'"), "routes[0].upstream: missing (required)");
  }

  @Test
  void routeToAnInvalidUpstreamDoesNotAddASecondProblem() {
    assertProblems(json("{'upstreams':[{'name':'api','endpoints':[]}],'routes':[{'upstream':'api'}]}"),
        "upstreams[0].endpoints: [] (expected: at least one host:port)");
  }

  @Test
  void duplicateRouteNameIsReportedOnTheLaterOneIncludingDefaultNames() {
    assertProblems(json("""
        {'upstreams':[{'name':'api','endpoints':['a:1']}],
         'routes':[{'upstream':'api'},{'name':'route-0','upstream':'api'},{'name':'bad/name','upstream':'api'}]}
        """),
        "routes[1].name: duplicate route name \"route-0\" (also at routes[0])",
        "routes[2].name: \"bad/name\" (expected: letters, digits, '.', '_' or '-')");
  }

  @Test
  void pathPrefixAndStripPrefixMustStartWithSlash() {
    assertProblems(withRoute("'upstream':'api','match':{'pathPrefix':'api/'},'stripPrefix':'api'"),
        "routes[0].match.pathPrefix: \"api/\" (expected: starting with \"/\")",
        "routes[0].stripPrefix: \"api\" (expected: empty or starting with \"/\")");
  }

  @Test
  void methodsThatAreNotHttpTokensAreReported() {
    assertProblems(withRoute("'upstream':'api','match':{'methods':['GET','GE T','']}"),
        "routes[0].match.methods[1]: \"GE T\" (expected: an HTTP method such as GET)",
        "routes[0].match.methods[2]: \"\" (expected: an HTTP method such as GET)");
  }

  @Test
  void matchHostWithSpacesSlashesOrMisplacedWildcardIsReported() {
    assertProblems(json("""
        {'upstreams':[{'name':'api','endpoints':['a:1']}],
         'routes':[{'upstream':'api','match':{'host':'api example.com'}},
                   {'upstream':'api','match':{'host':'example.com/v1'}},
                   {'upstream':'api','match':{'host':'api.*.com'}}]}
        """),
        "routes[0].match.host: \"api example.com\" (expected: empty, a host name or *.domain)",
        "routes[1].match.host: \"example.com/v1\" (expected: empty, a host name or *.domain)",
        "routes[2].match.host: \"api.*.com\" (expected: empty, a host name or *.domain)");
  }

  @Test
  void hostRewriteMustBeAHostHeaderValue() {
    assertEquals("backend.internal:8443",
        valid(withRoute("'upstream':'api','hostRewrite':'backend.internal:8443'")).routes().get(0).hostRewrite());
    assertProblems(withRoute("'upstream':'api','hostRewrite':'http://backend'"),
        "routes[0].hostRewrite: \"http://backend\" (expected: empty or host[:port])");
  }

  // --- cluster ----------------------------------------------------------------------------------

  @Test
  void anEnabledClusterNeedsMembersOrKubernetesDiscovery() {
    assertProblems(json("{'cluster':{'enabled':true}}"),
        "cluster.members: [] (expected: members, or kubernetes.serviceDns, when the cluster is enabled)");
    assertEquals(List.of(new Endpoint("10.0.0.1", 5701)),
        valid(json("{'cluster':{'enabled':true,'members':['10.0.0.1:5701']}}")).cluster().members());
    assertTrue(valid(json("{'cluster':{'enabled':true,'kubernetes':{'serviceDns':'kg-hz'}}}")).cluster().enabled());
  }

  @Test
  void aTlsListenerNeedsReadableCertificatesAndModernProtocols() {
    assertProblems(json("{'server':{'tls':{'enabled':true,'protocols':['TLSv1.1'],"
            + "'certificates':[{'certFile':'/nonexistent/tls.crt'}]}}}"),
        "server.tls.certificates[0].certFile: \"/nonexistent/tls.crt\" (expected: a readable file)",
        "server.tls.certificates[0].keyFile: missing (required)",
        "server.tls.protocols[0]: \"TLSv1.1\" (expected: TLSv1.3 or TLSv1.2)");
    assertProblems(json("{'server':{'tls':{'enabled':true}}}"),
        "server.tls.certificates: [] (expected: at least one certificate when TLS is enabled)");
    assertProblems(json("{'server':{'tls':{'redirectCleartext':true}}}"),
        "server.tls.redirectCleartext: true (expected: false unless server.tls.enabled: there is no TLS listener to redirect to)");
  }

  @Test
  void tlsCiphersAreModernTls12SuitesNamedOnly() {
    assertProblems(json("{'server':{'tls':{'ciphers':['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256','AES128-SHA',"
            + "'TLS_RSA_WITH_AES_128_CBC_SHA','TLS_AES_128_GCM_SHA256']}}}"),
        "server.tls.ciphers[1]: \"AES128-SHA\" (expected: one of " + String.join(", ", TlsConfig.DEFAULT_CIPHERS) + ")",
        "server.tls.ciphers[2]: \"TLS_RSA_WITH_AES_128_CBC_SHA\" (expected: one of "
            + String.join(", ", TlsConfig.DEFAULT_CIPHERS) + ")",
        "server.tls.ciphers[3]: \"TLS_AES_128_GCM_SHA256\" (expected: a TLS 1.2 suite; the TLS 1.3 suites are always offered)");
    assertProblems(json("{'server':{'tls':{'ciphers':[]}}}"),
        "server.tls.ciphers: [] (expected: at least one suite while protocols offers TLSv1.2)");
    assertEquals(List.of(), valid(json("{'server':{'tls':{'protocols':['TLSv1.3'],'ciphers':[]}}}")).server().tls().ciphers(),
        "TLS 1.3 alone needs none");
    assertEquals(TlsConfig.DEFAULT_CIPHERS, valid(json("{}")).server().tls().ciphers());
    TlsConfig narrowed = valid(json("{'server':{'tls':{'ciphers':['TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256']}}}"))
        .server().tls();
    assertEquals(List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"), narrowed.cipherSuites(), "TLS 1.3's suites, then the list");
  }

  @Test
  void aDnsDiscoveredTlsUpstreamVerifiesTheNameLookedUpUnlessServerNameIsSet() {
    String discovered = "{'upstreams':[{'name':'api','discovery':{'dns':{'name':'api.default.svc.cluster.local.','port':443}},"
        + "'tls':%s}]}";
    assertEquals("api.default.svc.cluster.local", valid(json(discovered.formatted("{'enabled':true}")))
        .upstreams().get(0).tls().serverName(), "the endpoints are addresses: the name is what a certificate names");
    assertEquals("api.example.com", valid(json(discovered.formatted("{'enabled':true,'serverName':'api.example.com'}")))
        .upstreams().get(0).tls().serverName());
    assertEquals("", valid(withUpstream("'tls':{'enabled':true}")).upstreams().get(0).tls().serverName(),
        "static endpoints: each endpoint's own host");
  }

  @Test
  void upstreamTlsFilesMustBeReadableAndAClientCertificateComesWithItsKey() {
    assertProblems(withUpstream("'tls':{'enabled':true,'caFile':'/nonexistent/ca.pem','certFile':'/nonexistent/c.pem',"
            + "'serverName':'bad name'}"),
        "upstreams[0].tls.serverName: \"bad name\" (expected: a host name or IP address)",
        "upstreams[0].tls.caFile: \"/nonexistent/ca.pem\" (expected: a readable file)",
        "upstreams[0].tls.certFile: \"/nonexistent/c.pem\" (expected: a readable file)",
        "upstreams[0].tls.keyFile: missing (expected: certFile and keyFile together, for a client certificate)");
    UpstreamTlsConfig tls = valid(withUpstream("'tls':{'enabled':true,'verify':false}")).upstreams().get(0).tls();
    assertEquals(new UpstreamTlsConfig(true, "", null, false, null, null), tls);
  }

  @Test
  void proxyProtocolTrustsOnlyNetworksGivenAsCidrs() {
    assertProblems(json("{'server':{'proxyProtocol':{'enabled':true,'trustedCidrs':['10.0.0.0/33','lb.local','300.1.1.1/8']}}}"),
        "server.proxyProtocol.trustedCidrs[0]: \"10.0.0.0/33\" (expected: a network as address/prefix, e.g. 10.0.0.0/8 or fd00::/8)",
        "server.proxyProtocol.trustedCidrs[1]: \"lb.local\" (expected: a network as address/prefix, e.g. 10.0.0.0/8 or fd00::/8)",
        "server.proxyProtocol.trustedCidrs[2]: \"300.1.1.1/8\" (expected: a network as address/prefix, e.g. 10.0.0.0/8 or fd00::/8)");
    assertProblems(json("{'server':{'proxyProtocol':{'enabled':true}}}"),
        "server.proxyProtocol.trustedCidrs: [] (expected: the load balancers' networks: a PROXY header from anywhere else is refused)");
    assertEquals(new ProxyProtocolConfig(true, List.of("10.0.0.0/8", "fd00::/8")),
        valid(json("{'server':{'proxyProtocol':{'enabled':true,'trustedCidrs':['10.0.0.0/8','fd00::/8']}}}"))
            .server().proxyProtocol());
  }

  @Test
  void anUpstreamHasStaticEndpointsOrOneDiscoverySourceNeverBoth() {
    assertProblems(json("{'upstreams':[{'name':'api','endpoints':['a:1'],'discovery':{'dns':{'name':'api.svc','port':80}}}]}"),
        "upstreams[0].discovery: set beside endpoints (expected: endpoints or discovery, not both)");
    assertProblems(json("{'upstreams':[{'name':'api','discovery':{'dns':{'name':'bad name','refreshMs':0,"
            + "'servers':['x','dns.local:53','10.0.0.10:53','[fd00::a]:53']}}}]}"),
        "upstreams[0].discovery.dns.name: \"bad name\" (expected: a DNS name)",
        "upstreams[0].discovery.dns.port: missing (required)",
        "upstreams[0].discovery.dns.refreshMs: 0 (expected: > 0)",
        "upstreams[0].discovery.dns.servers[0]: \"x\" (expected: host:port)",
        "upstreams[0].discovery.dns.servers[1]: \"dns.local:53\" (expected: ip:port)");
    assertProblems(json("{'upstreams':[{'name':'api','discovery':{'dns':{'name':'a','port':1},'kubernetes':{'service':'a','port':1}}}]}"),
        "upstreams[0].discovery.kubernetes: set beside dns (expected: one discovery source)");
    assertProblems(json("{'upstreams':[{'name':'api','discovery':{}}]}"),
        "upstreams[0].discovery.dns: missing (expected: dns or kubernetes)");
    UpstreamConfig upstream = valid(json(
        "{'upstreams':[{'name':'api','discovery':{'dns':{'name':'api.shop.svc.cluster.local','port':8080}}}]}"))
        .upstreams().get(0);
    assertEquals(List.of(), upstream.endpoints());
    assertEquals(new DnsDiscoveryConfig("api.shop.svc.cluster.local", 8080, DnsDiscoveryConfig.DEFAULT_REFRESH, List.of()),
        upstream.discovery());
    assertEquals(upstream, valid(ConfigLoader.toJson(valid(json(
        "{'upstreams':[{'name':'api','discovery':{'dns':{'name':'api.shop.svc.cluster.local','port':8080}}}]}"))).encode())
        .upstreams().get(0), "written and read back");
  }

  @Test
  void http2FromClientsIsOptInWithBoundedStreams() {
    assertProblems(json("{'server':{'http2':{'enabled':'yes','maxConcurrentStreams':0,'push':true}}}"),
        "server.http2.push: unknown key",
        "server.http2.enabled: \"yes\" (expected: boolean)",
        "server.http2.maxConcurrentStreams: 0 (expected: 1..10000)");
    Http2Config http2 = valid(json("{'server':{'http2':{'enabled':true,'h2c':false,'maxConcurrentStreams':250}}}"))
        .server().http2();
    assertEquals(new Http2Config(true, false, 250), http2);
    assertFalse(http2.cleartext(), "h2c off: the cleartext listener speaks HTTP/1.1 only");
  }

  @Test
  void kubernetesDiscoveryNamesAServiceAndAPortByNameOrNumber() {
    assertProblems(json("{'upstreams':[{'name':'api','discovery':{'kubernetes':{'service':'Api_1','namespace':'Shop',"
            + "'apiServer':'kubernetes:443','extra':1}}}]}"),
        "upstreams[0].discovery.kubernetes.extra: unknown key",
        "upstreams[0].discovery.kubernetes.service: \"Api_1\" (expected: a Service name, lower-case letters, digits and '-')",
        "upstreams[0].discovery.kubernetes.namespace: \"Shop\" (expected: a namespace name, or empty for the pod's own)",
        "upstreams[0].discovery.kubernetes.port: missing (required: the Service port's name or the pods' port number)",
        "upstreams[0].discovery.kubernetes.apiServer: \"kubernetes:443\" (expected: http(s)://host:port, or empty for the pod's service account)");
    assertProblems(json("{'upstreams':[{'name':'api','discovery':{'kubernetes':{'service':'api','port':'HTTP_port_too_long'}}}]}"),
        "upstreams[0].discovery.kubernetes.port: \"HTTP_port_too_long\" (expected: a port name, lower-case letters, "
            + "digits and '-', at most 15 characters, or a port number)");
    assertProblems(json("{'upstreams':[{'name':'api','discovery':{'kubernetes':{'service':'api','port':70000}}}]}"),
        "upstreams[0].discovery.kubernetes.port: 70000 (expected: 1..65535)");
    assertProblems(json("{'upstreams':[{'name':'api','slowStartMs':-1,'discovery':{'kubernetes':{'service':'api','port':true}}}]}"),
        "upstreams[0].discovery.kubernetes.port: true (expected: integer)",
        "upstreams[0].slowStartMs: -1 (expected: >= 0)");

    GatewayConfig named = valid(json("{'upstreams':[{'name':'api','slowStartMs':30000,"
        + "'discovery':{'kubernetes':{'service':'api','port':'http'}}}]}"));
    assertEquals(new KubernetesDiscoveryConfig("api", "", "http", 0, ""), named.upstreams().get(0).discovery());
    assertEquals(Duration.ofSeconds(30), named.upstreams().get(0).slowStart());
    GatewayConfig numbered = valid(json("{'upstreams':[{'name':'api','discovery':{'kubernetes':{'service':'api',"
        + "'namespace':'shop','port':8080,'apiServer':'https://10.0.0.1:6443'}}}]}"));
    assertEquals(new KubernetesDiscoveryConfig("api", "shop", "", 8080, "https://10.0.0.1:6443"),
        numbered.upstreams().get(0).discovery());
    for (GatewayConfig config : List.of(named, numbered)) {
      assertEquals(config.upstreams(), valid(ConfigLoader.toJson(config).encode()).upstreams(), "written and read back");
    }
  }

  @Test
  void aClusterLeaseOutlastsSeveralRenewals() {
    assertProblems(json("{'cluster':{'leaseMs':500}}"),
        "cluster.leaseMs: 500 (expected: >= 1000, several lease renewals of 250 ms)");
    assertProblems(json("{'cluster':{'leaseMs':0}}"), "cluster.leaseMs: 0 (expected: > 0)");
    assertEquals(Duration.ofSeconds(4), valid(json("{'cluster':{'leaseMs':4000}}")).cluster().lease());
  }

  @Test
  void clusterMembersMustBeHostAndPort() {
    assertProblems(json("{'cluster':{'members':['10.0.0.1']}}"),
        "cluster.members[0]: \"10.0.0.1\" (expected: host:port)");
  }

  @Test
  void theClusterMemberBindsOneInterfaceNeverAll() {
    assertProblems(json("{'cluster':{'host':'0.0.0.0'}}"),
        "cluster.host: \"0.0.0.0\" (expected: empty or one interface address, not 0.0.0.0)");
  }

  @Test
  void clusterMembersMustBeStrings() {
    assertProblems(json("{'cluster':{'members':['a:5701',5701]}}"),
        "cluster.members[1]: 5701 (expected: string)");
  }

  // --- all together -----------------------------------------------------------------------------

  @Test
  void severalProblemsAreAllReported() {
    assertProblems(json("""
        {'server':{'prot':8080,'drainTimeoutMs':-1},
         'upstreams':[{'name':'api','endpoints':['localhost'],'pool':{'idleTimeoutMs':'30s'}}],
         'routes':[{'upstream':'api'},{'upstream':'billing'}],
         'cluster':{'port':0}}
        """),
        "server.prot: unknown key",
        "server.drainTimeoutMs: -1 (expected: > 0)",
        "upstreams[0].endpoints[0]: \"localhost\" (expected: host:port)",
        "upstreams[0].pool.idleTimeoutMs: \"30s\" (expected: integer)",
        "routes[1].upstream: no upstream named \"billing\"",
        "cluster.port: 0 (expected: 1..65535)");
  }

  @Test
  void exceptionMessageHasOneLinePerProblem() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> ConfigLoader.parse(json("{'foo':1,'bar':2}")));
    assertEquals("foo: unknown key\nbar: unknown key", e.getMessage());
  }

  // --- load -------------------------------------------------------------------------------------

  @Test
  void loadReadsAndParsesAFile(@TempDir Path dir) throws IOException, ConfigException {
    Path file = dir.resolve("keepgate.json");
    Files.writeString(file, SPEC_EXAMPLE);
    assertEquals(ConfigLoader.parse(SPEC_EXAMPLE), ConfigLoader.load(file));
  }

  @Test
  void missingFileIsOneProblemNamingThePath(@TempDir Path dir) {
    Path file = dir.resolve("absent.json");
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
    assertEquals(List.of(file + ": cannot read: no such file"), e.problems());
  }

  @Test
  void invalidJsonInAFileNamesTheFileInsteadOfConfig(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("bad.json");
    Files.writeString(file, "{\n  \"server\": {\n}");
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
    assertEquals(1, e.problems().size());
    assertTrue(e.problems().get(0).startsWith(file + ": invalid JSON: "), e.problems().get(0));
  }

  @Test
  void validationProblemsInAFileUseJsonPaths(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("keepgate.json");
    Files.writeString(file, json("{'server':{'port':-1}}"));
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
    assertEquals(List.of("server.port: -1 (expected: 0..65535)"), e.problems());
  }
}
