package io.keepgate.proxy;

import io.keepgate.config.ProxyProtocolConfig;
import io.keepgate.metrics.GatewayMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.ipfilter.IpFilterRuleType;
import io.netty.handler.ipfilter.IpSubnetFilterRule;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The PROXY protocol (v1 and v2, Netty's decoder) on a proxy listener: the first handler of a
 * client connection looks at its first bytes. A PROXY header from a trusted network gives the
 * connection its real client (for X-Forwarded-For and the access log); a PROXY header from any
 * other source, or a malformed one, closes the connection; anything else (a client talking to
 * keepgate directly, a health check) passes on untouched. It goes before TLS: the header precedes
 * the ClientHello.
 *
 * <p>Threading: the trusted rules are immutable and shared; one {@link Detector} per connection,
 * on its event loop.
 */
final class ProxyProtocol {
  private static final byte[] V1_PREFIX = "PROXY ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] V2_PREFIX = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

  private final List<IpSubnetFilterRule> trusted;
  private final GatewayMetrics metrics;

  ProxyProtocol(ProxyProtocolConfig config, GatewayMetrics metrics) {
    this.trusted = config.trustedCidrs().stream().map(ProxyProtocol::rule).toList();
    this.metrics = metrics;
  }

  private static IpSubnetFilterRule rule(String cidr) {
    int slash = cidr.indexOf('/');
    // an address literal, validated by the config loader: parsed, never looked up
    return new IpSubnetFilterRule(NetUtil.createInetAddressFromIpAddressString(cidr.substring(0, slash)),
        Integer.parseInt(cidr.substring(slash + 1)), IpFilterRuleType.ACCEPT);
  }

  /** The handler that goes first in a client connection's pipeline. */
  Detector newDetector(ClientConnection connection) {
    return new Detector(connection);
  }

  private boolean trusts(Object remote) {
    return remote instanceof InetSocketAddress address && trusted.stream().anyMatch(rule -> rule.matches(address));
  }

  /** Decides on the first bytes, then leaves the pipeline. */
  final class Detector extends ByteToMessageDecoder {
    private final ClientConnection connection;

    private Detector(ClientConnection connection) {
      this.connection = connection;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
      boolean v1 = startsWith(in, V1_PREFIX);
      boolean v2 = startsWith(in, V2_PREFIX);
      if (!v1 && !v2) {
        ctx.pipeline().remove(this); // not a PROXY header: the bytes go on as they came
        return;
      }
      if (in.readableBytes() < (v1 ? V1_PREFIX.length : V2_PREFIX.length)) {
        return; // a prefix of a header so far
      }
      if (!trusts(ctx.channel().remoteAddress())) {
        metrics.proxyProtocolHeader("untrusted");
        in.skipBytes(in.readableBytes());
        ctx.close();
        return;
      }
      String name = ctx.name();
      ctx.pipeline().addAfter(name, null, new Receiver(connection));
      ctx.pipeline().addAfter(name, null, new HAProxyMessageDecoder());
      ctx.pipeline().remove(this); // the header's bytes go to the decoder just added
    }

    /** Whether the readable bytes so far agree with {@code prefix} (as far as they go). */
    private static boolean startsWith(ByteBuf in, byte[] prefix) {
      int n = Math.min(in.readableBytes(), prefix.length);
      for (int i = 0; i < n; i++) {
        if (in.getByte(in.readerIndex() + i) != prefix[i]) {
          return false;
        }
      }
      return true;
    }
  }

  /**
   * Takes the decoded header, gives the connection its real client, and leaves the pipeline. A
   * connection that ends before a whole, valid header arrived (Netty's decoder closes it on a
   * malformed one) is counted as {@code malformed}.
   */
  private final class Receiver extends ChannelInboundHandlerAdapter {
    private final ClientConnection connection;
    private boolean counted;

    private Receiver(ClientConnection connection) {
      this.connection = connection;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!(msg instanceof HAProxyMessage header)) {
        ctx.fireChannelRead(msg);
        return;
      }
      try {
        // LOCAL (a load balancer's own health check) and UNKNOWN carry no client: the socket's peer stands
        if (header.command() == HAProxyCommand.PROXY && header.sourceAddress() != null) {
          connection.proxiedClient(header.sourceAddress(), header.sourcePort());
        }
        counted = true;
        metrics.proxyProtocolHeader("accepted");
      } finally {
        ReferenceCountUtil.release(header);
      }
      ctx.pipeline().remove(this);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close(); // HAProxyProtocolException from the decoder, which has closed the connection already
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (!counted) {
        counted = true;
        metrics.proxyProtocolHeader("malformed");
      }
      ctx.fireChannelInactive();
    }
  }
}
