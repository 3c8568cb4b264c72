package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.Await;
import io.keepgate.testing.CountingBackend;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.RawClient;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The claim under test: a WebSocket upgrade is passed through on an upstream connection of its
 * own, both directions flow, and that connection never enters the HTTP keep-alive pool.
 */
class WebSocketIT {

  @Test
  void webSocketMessagesFlowBothWaysOnADedicatedUpstreamConnection() throws Exception {
    try (CountingBackend backend = CountingBackend.start()) {
      var backendSocketsClosed = new java.util.concurrent.atomic.AtomicInteger();
      backend.handler(request -> request.toWebSocket().onSuccess(ws -> {
        ws.textMessageHandler(text -> ws.writeTextMessage("echo:" + text));
        ws.closeHandler(v -> backendSocketsClosed.incrementAndGet());
      }));
      try (GatewayHarness gateway = GatewayHarness.start(GatewayHarness.config(backend.endpoint()))) {
        Vertx client = Vertx.vertx();
        try {
          WebSocketClient wsClient = client.createWebSocketClient();
          WebSocket ws = wsClient.connect(new WebSocketConnectOptions()
              .setHost("127.0.0.1").setPort(gateway.port()).setURI("/chat")).await(10, TimeUnit.SECONDS);
          var replies = new java.util.concurrent.LinkedBlockingQueue<String>();
          ws.textMessageHandler(replies::add);
          ws.writeTextMessage("hello");
          ws.writeTextMessage("again");
          assertEquals("echo:hello", replies.poll(10, TimeUnit.SECONDS));
          assertEquals("echo:again", replies.poll(10, TimeUnit.SECONDS));
          assertEquals(1, backend.open(), "one dedicated upstream connection carries the tunnel");
          assertEquals(0, gateway.pool(backend.endpoint()).getInteger("opened"),
              "the tunnel's connection is not a pooled connection");

          ws.close().await(10, TimeUnit.SECONDS);
          Await.equal("the backend's WebSocket closes when the client closes", Duration.ofSeconds(5), 1,
              backendSocketsClosed::get);
        } finally {
          client.close().await(10, TimeUnit.SECONDS);
        }
      }
    }
  }

  @Test
  void aRefusedUpgradeIsRelayedToTheClient() throws Exception {
    try (CountingBackend backend = CountingBackend.start()) {
      backend.handler(request -> request.response().setStatusCode(403).end("no websockets here"));
      try (GatewayHarness gateway = GatewayHarness.start(GatewayHarness.config(backend.endpoint()));
           RawClient client = new RawClient(gateway.port())) {
        client.send("GET /chat HTTP/1.1\r\nHost: test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
        RawClient.Response response = client.readResponse();
        assertEquals(403, response.status());
        assertEquals("no websockets here", response.body());
        assertTrue(client.closedByServer(), "the client connection closes after a refused upgrade");
      }
    }
  }
}
