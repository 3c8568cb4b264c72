package io.keepgate.testing;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsSection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A DNS server the test controls, on 127.0.0.1 (UDP, port 0), built from Netty's DNS codec: every
 * A question is answered with the addresses set now (none: an empty answer), with a TTL the test
 * sets; other questions get an empty answer. Counts the questions it was asked.
 */
public final class TestDnsServer implements AutoCloseable {
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel channel;
  private final AtomicInteger questions = new AtomicInteger();
  private volatile List<String> addresses = List.of();
  private volatile int ttlSeconds = 1;

  public TestDnsServer() throws InterruptedException {
    channel = new Bootstrap().group(group).channel(NioDatagramChannel.class)
        .handler(new io.netty.channel.ChannelInitializer<NioDatagramChannel>() {
          @Override
          protected void initChannel(NioDatagramChannel ch) {
            ch.pipeline().addLast(new DatagramDnsQueryDecoder(), new DatagramDnsResponseEncoder(), new Responder());
          }
        })
        .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
  }

  /** The address to configure as the DNS server, {@code 127.0.0.1:port}. */
  public String address() {
    return "127.0.0.1:" + ((InetSocketAddress) channel.localAddress()).getPort();
  }

  /** The A records every name resolves to from now on (IP literals). */
  public void answer(String... ips) {
    addresses = List.of(ips);
  }

  public void ttlSeconds(int ttl) {
    ttlSeconds = ttl;
  }

  public int questions() {
    return questions.get();
  }

  private final class Responder extends SimpleChannelInboundHandler<DatagramDnsQuery> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramDnsQuery query) throws Exception {
      questions.incrementAndGet();
      DnsQuestion question = query.recordAt(DnsSection.QUESTION);
      DatagramDnsResponse response = new DatagramDnsResponse(query.recipient(), query.sender(), query.id());
      response.setRecursionAvailable(true);
      response.addRecord(DnsSection.QUESTION, question);
      if (question.type() == DnsRecordType.A) {
        for (String ip : addresses) {
          response.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(question.name(), DnsRecordType.A, ttlSeconds,
              Unpooled.wrappedBuffer(InetAddress.getByName(ip).getAddress()))); // an IP literal: no lookup
        }
      }
      ctx.writeAndFlush(response);
    }
  }

  @Override
  public void close() throws Exception {
    channel.close().sync();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }
}
