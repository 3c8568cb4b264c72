package io.keepgate.routing;

import io.keepgate.config.RouteConfig;
import io.keepgate.upstream.Upstream;
import io.keepgate.upstream.Upstreams;
import io.vertx.core.http.HttpMethod;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The routes of one config. The answer is the one a linear scan would give (the first route in
 * config order whose host, path prefix and methods all match) but a lookup costs the same
 * whatever the number of routes:
 *
 * <ul>
 *   <li>routes are split by {@code match.host} into buckets: one per exact host and one per
 *       wildcard suffix ({@code *.example.com} is the bucket {@code .example.com}), each in a
 *       case-insensitive {@link HostTable}, plus one bucket for the routes on any host;
 *   <li>each bucket is a {@link PathTrie} of its path prefixes, holding config indexes;
 *   <li>a lookup hashes the Host once, backwards, probing the wildcard table at each dot and the
 *       exact table at the end, walks the trie of each bucket found and of the any-host bucket,
 *       and keeps the lowest config index that also allows the method.
 * </ul>
 *
 * <p>Threading: immutable snapshot, built once per config by {@link #create} and shared by all
 * proxy event loops; {@link #match} allocates nothing.
 */
public final class RouteTable {
  /** The routes in config order; the tries and host tables hold indexes into this array. */
  private final Route[] routes;
  private final HostTable exactHosts;
  private final HostTable wildcardSuffixes;
  private final PathTrie anyHost;

  private RouteTable(Route[] routes, HostTable exactHosts, HostTable wildcardSuffixes, PathTrie anyHost) {
    this.routes = routes;
    this.exactHosts = exactHosts;
    this.wildcardSuffixes = wildcardSuffixes;
    this.anyHost = anyHost;
  }

  /** Compiles routes against the running upstreams (validated config: every upstream exists). */
  public static RouteTable create(List<RouteConfig> configs, Upstreams upstreams) {
    return create(configs, upstreams::get);
  }

  /** Compiles routes, finding each route's upstream by name with {@code upstreams}. */
  static RouteTable create(List<RouteConfig> configs, Function<String, Upstream> upstreams) {
    Route[] routes = new Route[configs.size()];
    Map<String, PathTrie.Builder> exact = new LinkedHashMap<>();
    Map<String, PathTrie.Builder> wildcard = new LinkedHashMap<>();
    PathTrie.Builder any = new PathTrie.Builder();
    for (int index = 0; index < routes.length; index++) {
      RouteConfig config = configs.get(index);
      routes[index] = new Route(config, upstreams.apply(config.upstream()));
      RouteConfig.Match match = config.match();
      String host = match.host();
      PathTrie.Builder bucket;
      if (host.isEmpty()) {
        bucket = any;
      } else if (host.startsWith("*.")) {
        bucket = wildcard.computeIfAbsent(host.substring(1), h -> new PathTrie.Builder());
      } else {
        bucket = exact.computeIfAbsent(host, h -> new PathTrie.Builder());
      }
      bucket.add(match.pathPrefix(), index, match.methods());
    }
    return new RouteTable(routes, hostTable(exact), hostTable(wildcard), any.build());
  }

  private static HostTable hostTable(Map<String, PathTrie.Builder> builders) {
    Map<String, PathTrie> tries = new LinkedHashMap<>();
    builders.forEach((host, builder) -> tries.put(host, builder.build()));
    return new HostTable(tries);
  }

  /**
   * The first route in config order matching the request, or {@code null}.
   *
   * @param host   the Host header without its port, may be empty; compared ignoring case
   * @param path   the request path, without the query
   * @param method the method name, e.g. {@code GET}
   */
  public Route match(String host, String path, String method) {
    int best = anyHost.lookup(path, method, PathTrie.NONE);
    if (!host.isEmpty() && best != 0) {
      best = matchHost(host, path, method, best);
    }
    return best == PathTrie.NONE ? null : routes[best];
  }

  /**
   * The first route matching the request, or {@code null}; same as
   * {@link #match(String, String, String)} with {@code method.name()}.
   *
   * @param host the Host header without its port, may be empty
   * @param path the request path, without the query
   */
  public Route match(String host, String path, HttpMethod method) {
    return match(host, path, method.name());
  }

  /**
   * Improves {@code best} with the exact-host and wildcard buckets of {@code host}: one backward
   * pass hashes every suffix; a suffix starting at a dot (not the first character, as a wildcard
   * needs at least one character before its suffix) is probed as a wildcard, the whole host as an
   * exact host.
   */
  private int matchHost(String host, String path, String method, int best) {
    boolean wildcards = !wildcardSuffixes.isEmpty();
    if (!wildcards && exactHosts.isEmpty()) {
      return best;
    }
    int hash = 0;
    for (int i = host.length() - 1; i >= 0; i--) {
      char c = host.charAt(i);
      int cp = c;
      if (c >= 0x80 && Character.isLowSurrogate(c) && i > 0 && Character.isHighSurrogate(host.charAt(i - 1))) {
        cp = Character.toCodePoint(host.charAt(--i), c);
      }
      hash = HostTable.step(hash, cp);
      if (c == '.' && wildcards && i > 0) {
        best = wildcardSuffixes.lookup(hash, host, i, path, method, best);
      }
    }
    return exactHosts.lookup(hash, host, 0, path, method, best);
  }
}
