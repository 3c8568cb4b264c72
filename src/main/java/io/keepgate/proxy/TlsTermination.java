package io.keepgate.proxy;

import io.keepgate.metrics.GatewayMetrics;
import io.keepgate.tls.ServerCertificates;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SniCompletionEvent;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import java.time.Duration;
import java.util.Locale;
import javax.net.ssl.SSLException;

/**
 * The TLS listener's first handlers: SNI picks the certificate from the set serving now (swapped
 * by {@link #use} when the files change), the handshake must finish within the header-read
 * timeout, and every handshake is counted by result, with what its SNI name got (a certificate
 * that covers it, or the default for an unknown name or none). A client that fails its handshake
 * is closed before any HTTP is decoded, so nothing it sent reaches a backend.
 *
 * <p>Threading: the certificate set is a volatile reference, swapped by the certificate watcher's
 * thread and read on the event loops; {@link #newHandlers} runs on any event loop, and the
 * handlers it returns belong to one connection.
 */
final class TlsTermination {
  private final long handshakeTimeoutMillis;
  private final GatewayMetrics metrics;
  private volatile ServerCertificates certificates;

  TlsTermination(ServerCertificates certificates, Duration handshakeTimeout, GatewayMetrics metrics) {
    this.certificates = certificates;
    this.handshakeTimeoutMillis = handshakeTimeout.toMillis();
    this.metrics = metrics;
  }

  /** New handshakes use {@code next}; established connections keep their certificate. */
  void use(ServerCertificates next) {
    certificates = next;
  }

  /** The handlers that go first in a TLS client connection's pipeline. */
  ChannelHandler[] newHandlers() {
    HandshakeCounter counter = new HandshakeCounter(metrics);
    SniHandler sni = new SniHandler((String serverName) -> counter.chosen(serverName, certificates.choose(serverName)),
        handshakeTimeoutMillis) {
      @Override
      protected SslHandler newSslHandler(SslContext context, ByteBufAllocator allocator) {
        SslHandler handler = super.newSslHandler(context, allocator);
        handler.setHandshakeTimeoutMillis(handshakeTimeoutMillis);
        return handler;
      }
    };
    return new ChannelHandler[] {sni, counter};
  }

  /**
   * Counts one connection's handshake by result, and the certificate its SNI name got; closes a
   * failed one without logging its stack trace.
   */
  private static final class HandshakeCounter extends ChannelInboundHandlerAdapter {
    private final GatewayMetrics metrics;
    /** {@code matched}, {@code unknown} or {@code none}, once the ClientHello was read. */
    private String sni;

    HandshakeCounter(GatewayMetrics metrics) {
      this.metrics = metrics;
    }

    /** The SNI lookup's answer, remembered for the handshake's end: cleartext gets a lookup too, and is not counted. */
    SslContext chosen(String serverName, ServerCertificates.Choice choice) {
      sni = serverName == null ? "none" : choice.matched() ? "matched" : "unknown";
      return choice.context();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
      if (event instanceof SniCompletionEvent sni && !sni.isSuccess()) {
        metrics.tlsHandshake("client", reason(sni.cause())); // no ClientHello in time, or not TLS at all
        ctx.close();
        return;
      }
      if (event instanceof SslHandshakeCompletionEvent completion) {
        String result = completion.isSuccess() ? "success" : reason(completion.cause());
        metrics.tlsHandshake("client", result);
        if (sni != null && !result.equals("bad_record")) {
          metrics.tlsSni(sni);
        }
        if (!completion.isSuccess()) {
          ctx.close();
          return;
        }
      }
      super.userEventTriggered(ctx, event);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (cause instanceof DecoderException && cause.getCause() instanceof SSLException) {
        ctx.close(); // a handshake or record failure: counted with the handshake's completion event
        return;
      }
      ctx.fireExceptionCaught(cause);
    }

    /** {@code timeout}, {@code bad_record} (not TLS), {@code no_shared_protocol_or_cipher}, or {@code failed}. */
    private static String reason(Throwable cause) {
      Throwable root = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
      if (root instanceof SslHandshakeTimeoutException) {
        return "timeout";
      }
      if (root instanceof NotSslRecordException) {
        return "bad_record";
      }
      String message = String.valueOf(root.getMessage()).toLowerCase(Locale.ROOT);
      if (message.contains("protocol") || message.contains("cipher")) {
        return "no_shared_protocol_or_cipher";
      }
      return "failed";
    }
  }
}
