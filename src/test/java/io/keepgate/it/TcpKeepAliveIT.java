package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.CountingBackend;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.KernelSockets;
import io.keepgate.testing.RawClient;
import io.keepgate.upstream.TcpKeepAlive;
import io.netty.channel.Channel;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The claim under test: every upstream socket carries the upstream's TCP keepalive settings
 * (kernel liveness probes, not HTTP keep-alive): SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL,
 * TCP_KEEPCNT and, on the native transport, TCP_USER_TIMEOUT = idle + interval x probes, as the
 * kernel reports them for the live socket (getsockopt, and {@code ss}'s keepalive timer); and
 * {@code enabled: false} leaves SO_KEEPALIVE off.
 */
class TcpKeepAliveIT {

  @Test
  void upstreamSocketCarriesTheConfiguredKeepaliveTimers() throws Exception {
    try (CountingBackend backend = CountingBackend.start()) {
      JsonObject config = GatewayHarness.config(backend.endpoint());
      GatewayHarness.upstream(config).put("tcpKeepAlive",
          new JsonObject().put("enabled", true).put("idleSeconds", 7).put("intervalSeconds", 3).put("probes", 4));
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        assertEquals(200, get(gateway).status());
        Channel connection = onlyConnection(gateway);

        TcpKeepAlive.SocketValues values = TcpKeepAlive.read(connection);
        assertTrue(values.enabled(), "SO_KEEPALIVE: " + values);
        assertEquals(7, values.idleSeconds(), "TCP_KEEPIDLE: " + values);
        assertEquals(3, values.intervalSeconds(), "TCP_KEEPINTVL: " + values);
        assertEquals(4, values.probes(), "TCP_KEEPCNT: " + values);
        if (gateway.gateway().vertx().isNativeTransportEnabled()) {
          assertEquals((7 + 3 * 4) * 1000, values.userTimeoutMs(), "TCP_USER_TIMEOUT: " + values);
        }

        // The kernel's own view: the idle socket's keepalive timer counts down from 7 s, not 7200 s.
        Assumptions.assumeTrue(KernelSockets.installed(), "iproute2's ss is not installed");
        String line = onlySocket(backend);
        Matcher timer = KernelSockets.KEEPALIVE_TIMER.matcher(line);
        assertTrue(timer.find(), "ss shows a keepalive timer on the upstream socket: " + line);
        double seconds = KernelSockets.seconds(timer.group(1));
        assertTrue(seconds <= 7.0 && seconds > 4.0,
            "keepalive timer " + timer.group() + " (" + seconds + " s) counts down from 7 s: " + line);
        assertEquals("0", timer.group(2), "no probe sent yet: " + line);
      }
    }
  }

  @Test
  void disabledTcpKeepAliveLeavesSoKeepaliveOff() throws Exception {
    try (CountingBackend backend = CountingBackend.start()) {
      JsonObject config = GatewayHarness.config(backend.endpoint());
      GatewayHarness.upstream(config).put("tcpKeepAlive", new JsonObject().put("enabled", false));
      try (GatewayHarness gateway = GatewayHarness.start(config)) {
        assertEquals(200, get(gateway).status());
        TcpKeepAlive.SocketValues values = TcpKeepAlive.read(onlyConnection(gateway));
        assertFalse(values.enabled(), "SO_KEEPALIVE: " + values);

        Assumptions.assumeTrue(KernelSockets.installed(), "iproute2's ss is not installed");
        String line = onlySocket(backend);
        assertFalse(KernelSockets.KEEPALIVE_TIMER.matcher(line).find(), "no keepalive timer on the upstream socket: " + line);
      }
    }
  }

  private static Channel onlyConnection(GatewayHarness gateway) throws Exception {
    List<Channel> connections = gateway.gateway().upstreams().get("up").endpoints().get(0)
        .idleChannelsForTest().get(5, TimeUnit.SECONDS);
    assertEquals(1, connections.size(), "one pooled upstream connection");
    return connections.get(0);
  }

  /** The ss line of keepgate's end of its one connection to the backend. */
  private static String onlySocket(CountingBackend backend) {
    assertEquals(1, backend.clientPorts().size(), "one upstream connection");
    List<String> sockets = KernelSockets.sockets("established", backend.clientPorts().iterator().next(), backend.port());
    assertEquals(1, sockets.size(), "keepgate's end of the upstream connection: " + sockets);
    return sockets.get(0);
  }

  private static RawClient.Response get(GatewayHarness gateway) throws Exception {
    try (RawClient client = new RawClient(gateway.port())) {
      client.send("GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
      return client.readResponse();
    }
  }
}
