package io.keepgate.upstream;

import io.keepgate.config.DnsDiscoveryConfig;
import io.keepgate.config.Endpoint;
import io.netty.channel.ChannelFactory;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramChannel;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsNameResolverTimeoutException;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import io.netty.resolver.dns.NoopDnsCache;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * An upstream's endpoints from DNS: the A and AAAA records of a name, asked with Netty's
 * asynchronous resolver (no {@code InetAddress} lookup, no thread blocked), again every refresh
 * period, or sooner when a record's TTL is shorter (never more often than once a second). A
 * changed set goes to {@code onChange}; a failed resolution or an empty answer keeps the last
 * set (an upstream never empties because its DNS server hiccuped), and is logged and counted.
 *
 * <p>Threading: every resolution and its callbacks run on one event loop.
 */
final class DnsDiscovery implements EndpointDiscovery {
  private static final long MIN_REFRESH_MILLIS = 1000;

  private final DnsDiscoveryConfig config;
  private final EventLoop loop;
  private final DnsNameResolver resolver;
  private final DiscoveredSet discovered;
  private ScheduledFuture<?> next;
  private volatile boolean closed;

  /**
   * @param counter told ({@code upstream}, result) for every resolution: {@code changed},
   *                {@code unchanged}, {@code empty} or {@code failed}
   */
  DnsDiscovery(DnsDiscoveryConfig config, String upstream, EventLoop loop,
      ChannelFactory<? extends DatagramChannel> datagrams, Consumer<List<Endpoint>> onChange,
      BiConsumer<String, String> counter) {
    this.config = config;
    this.loop = loop;
    this.discovered = new DiscoveredSet(upstream, "DNS " + config.name(), onChange, counter);
    DnsNameResolverBuilder builder = new DnsNameResolverBuilder(loop)
        .datagramChannelFactory(datagrams)
        .resolveCache(NoopDnsCache.INSTANCE) // every refresh asks the server: the TTLs are read off the answer
        .queryTimeoutMillis(2000)
        .recursionDesired(true);
    if (config.servers().isEmpty()) {
      builder.nameServerProvider(DnsServerAddressStreamProviders.platformDefault());
    } else {
      builder.nameServerProvider(new SequentialDnsServerAddressStreamProvider(config.servers().stream()
          .map(s -> new InetSocketAddress(NetUtil.createInetAddressFromIpAddressString(s.host()), s.port()))
          .toArray(InetSocketAddress[]::new))); // IP literals, as the config loader requires: parsed, never looked up
    }
    this.resolver = builder.build();
  }

  @Override
  public void start() {
    loop.execute(this::resolve);
  }

  private void resolve() {
    if (closed) {
      return;
    }
    Future<List<DnsRecord>> a = resolver.resolveAll(new DefaultDnsQuestion(config.name(), DnsRecordType.A));
    a.addListener(ignored -> {
      Future<List<DnsRecord>> aaaa = resolver.resolveAll(new DefaultDnsQuestion(config.name(), DnsRecordType.AAAA));
      aaaa.addListener(ignored2 -> onAnswers(a, aaaa));
    });
  }

  private void onAnswers(Future<List<DnsRecord>> a, Future<List<DnsRecord>> aaaa) {
    long refreshMillis = config.refresh().toMillis();
    TreeSet<String> addresses = new TreeSet<>();
    String failure = null;
    for (Future<List<DnsRecord>> answer : List.of(a, aaaa)) {
      if (!answer.isSuccess()) {
        if (!isNoData(answer.cause())) {
          failure = String.valueOf(answer.cause().getMessage()); // a timeout, a refused query: the server failed
        }
        continue;
      }
      for (DnsRecord record : answer.getNow()) {
        try {
          if (record instanceof DnsRawRecord raw && (raw.type() == DnsRecordType.A || raw.type() == DnsRecordType.AAAA)) {
            byte[] bytes = new byte[raw.content().readableBytes()];
            raw.content().getBytes(raw.content().readerIndex(), bytes);
            addresses.add(InetAddress.getByAddress(bytes).getHostAddress()); // raw bytes: no lookup
            refreshMillis = Math.min(refreshMillis, Math.max(MIN_REFRESH_MILLIS, raw.timeToLive() * 1000));
          }
        } catch (UnknownHostException e) {
          // a record of the wrong length: skipped
        } finally {
          ReferenceCountUtil.release(record);
        }
      }
    }
    List<Endpoint> found = new ArrayList<>();
    addresses.forEach(address -> found.add(new Endpoint(address, config.port())));
    if (found.isEmpty()) {
      // both queries failed, or the name has no address now: keep what serves
      discovered.noEndpoint(failure != null ? "failed" : "empty", failure != null ? failure : "empty answer");
    } else {
      discovered.answer(found, "");
    }
    if (!closed) {
      next = loop.schedule(this::resolve, refreshMillis, TimeUnit.MILLISECONDS);
    }
  }

  /** Whether the server answered, with no record of the type (NXDOMAIN, no data): not a failure of DNS. */
  private static boolean isNoData(Throwable cause) {
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t instanceof DnsNameResolverTimeoutException) {
        return false;
      }
    }
    return cause instanceof UnknownHostException;
  }

  @Override
  public void close() {
    closed = true;
    loop.execute(() -> {
      if (next != null) {
        next.cancel(false);
      }
      resolver.close();
    });
  }
}
