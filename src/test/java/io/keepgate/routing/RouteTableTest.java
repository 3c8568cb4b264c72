package io.keepgate.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.keepgate.config.RouteConfig;
import io.vertx.core.http.HttpMethod;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link RouteTable} gives the answer of a linear scan in config order (the first route whose
 * host, path prefix and methods all match), whatever bucket or trie node each route lands in.
 */
class RouteTableTest {

  private static RouteConfig route(String name, String host, String pathPrefix, String... methods) {
    return new RouteConfig(name, new RouteConfig.Match(host, pathPrefix, Set.of(methods)), "backend", "", "");
  }

  private static RouteTable table(RouteConfig... routes) {
    return table(List.of(routes));
  }

  private static RouteTable table(List<RouteConfig> routes) {
    return RouteTable.create(routes, upstream -> null);
  }

  /** The name of the route matched, or null. */
  private static String match(RouteTable table, String host, String path, String method) {
    Route route = table.match(host, path, method);
    return route == null ? null : route.name();
  }

  @Test
  void anyHostRouteEarlierInTheFileBeatsALaterExactHostRoute() {
    RouteTable table = table(route("any", "", "/api"), route("exact", "api.example.com", "/api"));

    assertEquals("any", match(table, "api.example.com", "/api/users", "GET"));
  }

  @Test
  void exactHostRouteEarlierInTheFileBeatsALaterAnyHostRoute() {
    RouteTable table = table(route("exact", "api.example.com", "/api"), route("any", "", "/api"));

    assertEquals("exact", match(table, "api.example.com", "/api/users", "GET"));
    assertEquals("any", match(table, "www.example.com", "/api/users", "GET"), "other hosts fall through");
  }

  @Test
  void earlierWildcardBeatsALaterExactHostAndViceVersa() {
    RouteTable wildcardFirst = table(route("wildcard", "*.example.com", "/"), route("exact", "api.example.com", "/"));
    RouteTable exactFirst = table(route("exact", "api.example.com", "/"), route("wildcard", "*.example.com", "/"));

    assertEquals("wildcard", match(wildcardFirst, "api.example.com", "/", "GET"));
    assertEquals("exact", match(exactFirst, "api.example.com", "/", "GET"));
    assertEquals("wildcard", match(exactFirst, "www.example.com", "/", "GET"));
  }

  @Test
  void wildcardMatchesSubdomainsAtAnyDepthButNotTheDomainItself() {
    RouteTable table = table(route("wildcard", "*.example.com", "/"));

    assertEquals("wildcard", match(table, "a.example.com", "/", "GET"));
    assertEquals("wildcard", match(table, "a.b.example.com", "/", "GET"));
    assertNull(match(table, "example.com", "/", "GET"));
    assertNull(match(table, ".example.com", "/", "GET"), "at least one character before the suffix");
    assertNull(match(table, "aexample.com", "/", "GET"));
    assertNull(match(table, "a.example.com.evil", "/", "GET"));
  }

  @Test
  void aLongerWildcardAndAShorterOneAreBothCandidates() {
    RouteTable table = table(route("short", "*.com", "/x"), route("long", "*.example.com", "/"));

    assertEquals("long", match(table, "a.example.com", "/", "GET"));
    assertEquals("short", match(table, "a.example.com", "/x", "GET"));
  }

  @Test
  void hostsAreComparedIgnoringCase() {
    RouteTable table = table(route("exact", "api.example.com", "/"), route("wildcard", "*.example.org", "/"),
        route("upper", "WWW.Example.NET", "/"));

    assertEquals("exact", match(table, "API.Example.COM", "/", "GET"));
    assertEquals("wildcard", match(table, "Www.EXAMPLE.Org", "/", "GET"));
    assertEquals("upper", match(table, "www.example.net", "/", "GET"));
  }

  @Test
  void hostsAreComparedAsEqualsIgnoreCaseDoesBeyondAscii() {
    // KELVIN SIGN folds to 'k'; DESERET CAPITAL LETTER LONG I (a surrogate pair) to its small letter
    RouteTable table = table(route("kelvin", "k.example.com", "/"), route("deseret", "\uD801\uDC28.example.com", "/"));

    assertEquals("kelvin", match(table, "\u212A.example.com", "/", "GET"));
    assertEquals("deseret", match(table, "\uD801\uDC00.EXAMPLE.com", "/", "GET"));
  }

  @Test
  void methodsFilterFallsThroughToALaterRoute() {
    RouteTable table = table(route("writes", "", "/api", "POST", "PUT"), route("reads", "", "/api", "GET"),
        route("rest", "", "/"));

    assertEquals("writes", match(table, "h", "/api/x", "POST"));
    assertEquals("reads", match(table, "h", "/api/x", "GET"));
    assertEquals("rest", match(table, "h", "/api/x", "DELETE"));
  }

  @Test
  void theEarliestPrefixInFileOrderWinsNotTheLongest() {
    RouteTable shortFirst = table(route("short", "", "/api"), route("long", "", "/api/v1"));
    RouteTable longFirst = table(route("long", "", "/api/v1"), route("short", "", "/api"));

    assertEquals("short", match(shortFirst, "", "/api/v1/users", "GET"));
    assertEquals("long", match(longFirst, "", "/api/v1/users", "GET"));
    assertEquals("short", match(longFirst, "", "/api/v2/users", "GET"));
  }

  @Test
  void aPrefixIsARawStringPrefixNotAPathSegment() {
    RouteTable table = table(route("v1", "", "/v1"));

    assertEquals("v1", match(table, "", "/v1x", "GET"));
    assertEquals("v1", match(table, "", "/v1", "GET"));
    assertNull(match(table, "", "/v", "GET"));
    assertNull(match(table, "", "/V1", "GET"), "paths are case-sensitive");
  }

  @Test
  void anEmptyPrefixMatchesEveryPath() {
    RouteTable table = table(route("empty", "", ""));

    assertEquals("empty", match(table, "", "", "GET"));
    assertEquals("empty", match(table, "h", "/anything", "GET"));
    assertEquals("empty", match(table, "h", "*", "OPTIONS"));
  }

  @Test
  void anEmptyHostMatchesOnlyAnyHostRoutes() {
    RouteTable table = table(route("exact", "api.example.com", "/"), route("wildcard", "*.example.com", "/"),
        route("any", "", "/"));

    assertEquals("any", match(table, "", "/", "GET"));
  }

  @Test
  void noMatchReturnsNull() {
    RouteTable table = table(route("exact", "api.example.com", "/api", "GET"));

    assertNull(match(table, "www.example.com", "/api", "GET"), "other host");
    assertNull(match(table, "api.example.com", "/web", "GET"), "other path");
    assertNull(match(table, "api.example.com", "/api", "POST"), "other method");
    assertNull(match(table(), "api.example.com", "/api", "GET"), "no routes at all");
  }

  @Test
  void theHttpMethodOverloadAgreesWithTheMethodName() {
    RouteTable table = table(route("post", "", "/", "POST"), route("rest", "", "/"));

    assertEquals("post", table.match("", "/", HttpMethod.POST).name());
    assertEquals("rest", table.match("", "/", HttpMethod.GET).name());
  }

  @Test
  void theLastOfAThousandRoutesIsFound() {
    List<RouteConfig> routes = new ArrayList<>();
    for (int i = 0; i < 999; i++) {
      routes.add(route("r" + i, i % 3 == 0 ? "host" + i + ".example.com" : i % 3 == 1 ? "*.h" + i + ".example.com" : "",
          "/svc" + i + "/", i % 2 == 0 ? new String[0] : new String[] {"GET"}));
    }
    routes.add(route("last", "api.example.com", "/"));
    RouteTable table = table(routes);

    assertEquals("last", match(table, "api.example.com", "/svc7/x", "POST"));
    assertEquals("r2", match(table, "api.example.com", "/svc2/x", "POST"));
    assertEquals("r4", match(table, "x.h4.example.com", "/svc4/", "GET"));
  }

  // --- differential test against a linear scan ---------------------------------------------------

  private static final String[] ROUTE_HOSTS = {
      "", "", "a.com", "b.a.com", "*.a.com", "*.com", "*.b.a.com", "A.COM", "x", "*.", "[::1]", "k.com", "i.com",
      "\uD801\uDC28.com"};
  private static final String[] REQUEST_HOSTS = {
      "", "a.com", "A.com", "b.a.com", "B.A.COM", "c.b.a.com", "com", ".com", "..com", ".a.com", "x", "X", "a.", ".",
      "..", "x.a.com", "[::1]", "\u212A.com", "\u0130.com", "\u0131.com", "\uD801\uDC00.com", "\uD801\uDC28.com",
      "\uDC28.com", "a\uD801.com"};
  private static final String[] PREFIXES = {"", "/", "/", "/a", "/ab", "/a/", "/b", "/abc", "/a/b", "/ab/c"};
  private static final String[] METHODS = {"GET", "POST", "PUT"};
  private static final String[] REQUEST_METHODS = {"GET", "POST", "PUT", "DELETE"};
  private static final char[] PATH_CHARS = {'/', 'a', 'b', 'c'};

  @Test
  void randomRouteSetsMatchLikeALinearScanInConfigOrder() {
    Random random = new Random(20240611);
    for (int set = 0; set < 2_000; set++) {
      List<RouteConfig> routes = new ArrayList<>();
      int count = random.nextInt(25);
      for (int i = 0; i < count; i++) {
        List<String> methods = new ArrayList<>();
        for (String method : METHODS) {
          if (random.nextInt(4) == 0) {
            methods.add(method);
          }
        }
        routes.add(route("r" + i, pick(random, ROUTE_HOSTS), pick(random, PREFIXES), methods.toArray(String[]::new)));
      }
      RouteTable table = table(routes);
      for (int request = 0; request < 200; request++) {
        String host = pick(random, REQUEST_HOSTS);
        String path = randomPath(random);
        String method = pick(random, REQUEST_METHODS);
        RouteConfig expected = linearMatch(routes, host, path, method);
        assertEquals(expected == null ? null : expected.name(), match(table, host, path, method),
            () -> "routes " + routes + ", request " + host + " " + method + " " + path);
      }
    }
  }

  private static String pick(Random random, String[] values) {
    return values[random.nextInt(values.length)];
  }

  private static String randomPath(Random random) {
    if (random.nextInt(4) == 0) {
      return pick(random, PREFIXES);
    }
    StringBuilder path = new StringBuilder();
    int length = random.nextInt(7);
    for (int i = 0; i < length; i++) {
      path.append(PATH_CHARS[random.nextInt(PATH_CHARS.length)]);
    }
    return path.toString();
  }

  /** The reference: the first route in config order that matches, tried one by one. */
  private static RouteConfig linearMatch(List<RouteConfig> routes, String host, String path, String method) {
    for (RouteConfig route : routes) {
      if (matches(route.match(), host, path, method)) {
        return route;
      }
    }
    return null;
  }

  /** The per-route predicate the linear RouteTable used before it was indexed. */
  private static boolean matches(RouteConfig.Match match, String host, String path, String method) {
    return matchesHost(match.host(), host)
        && path.startsWith(match.pathPrefix())
        && (match.methods().isEmpty() || match.methods().contains(method));
  }

  private static boolean matchesHost(String pattern, String host) {
    if (!pattern.startsWith("*.")) {
      return pattern.isEmpty() || pattern.equalsIgnoreCase(host);
    }
    String suffix = pattern.substring(1);
    return host.length() > suffix.length()
        && host.regionMatches(true, host.length() - suffix.length(), suffix, 0, suffix.length());
  }
}
