package io.keepgate.proxy;

import io.keepgate.http1.RequestDecoder;
import io.keepgate.http1.RequestEncoder;
import io.keepgate.http1.ResponseDecoder;
import io.keepgate.http1.ResponseEncoder;
import io.keepgate.internal.Timeout;
import io.keepgate.upstream.UpstreamConnection;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * A WebSocket connection after its {@code 101}: both channels drop their HTTP codecs and relay raw
 * bytes to each other, with the same backpressure as the HTTP path (a side that cannot keep up
 * stops reads on the other) and the client idle timeout measured over traffic in either direction.
 * The upstream connection is a dedicated one: it never joins a pool.
 *
 * <p>Threading: both channels are on the same event loop; everything here runs there.
 */
final class Tunnel {
  private final Channel client;
  private final Channel upstream;
  private final ProxyLoop loop;
  private final ClientConnection clientConnection;
  private final Timeout idle = new Timeout(this::close);

  private Tunnel(ProxyLoop loop, ClientConnection clientConnection, Channel upstream) {
    this.loop = loop;
    this.clientConnection = clientConnection;
    this.client = clientConnection.channel();
    this.upstream = upstream;
  }

  /**
   * Turns both channels into a tunnel, once the {@code 101} was written to the client. Bytes either
   * decoder had buffered past the handshake are handed on in order.
   */
  static void splice(ClientConnection clientConnection, UpstreamConnection upstreamConnection) {
    Channel client = clientConnection.channel();
    Channel upstream = upstreamConnection.channel();
    Tunnel tunnel = new Tunnel(clientConnection.loop(), clientConnection, upstream);
    client.pipeline().remove(ResponseEncoder.class); // the 101 is already encoded
    client.pipeline().replace(clientConnection, "tunnel", tunnel.new Relay(upstream));
    upstream.pipeline().remove(RequestEncoder.class);
    upstream.pipeline().replace(upstreamConnection, "tunnel", tunnel.new Relay(client));
    upstream.pipeline().remove(ResponseDecoder.class); // hands on what the backend sent after its 101
    client.pipeline().remove(RequestDecoder.class); // hands on what the client sent after its request
    client.config().setAutoRead(true);
    upstream.config().setAutoRead(true);
    client.flush();
    upstream.flush();
    tunnel.activity();
  }

  private void activity() {
    loop.idleTimeouts.arm(idle, loop.loop.now());
  }

  private void close() {
    idle.cancel();
    for (Channel channel : new Channel[] {client, upstream}) {
      if (channel.isActive()) {
        channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      }
    }
  }

  /** Relays what its channel reads to the peer channel. */
  private final class Relay extends ChannelInboundHandlerAdapter {
    private final Channel peer;

    Relay(Channel peer) {
      this.peer = peer;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      peer.write(msg, peer.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      peer.flush();
      activity();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      peer.config().setAutoRead(ctx.channel().isWritable());
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (ctx.channel() == client) {
        clientConnection.onChannelClosed(); // its handler left the pipeline: the tunnel reports the close
      }
      close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
