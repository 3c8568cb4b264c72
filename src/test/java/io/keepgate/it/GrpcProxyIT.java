package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.GrpcText;
import io.keepgate.testing.TcpRelay;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The claim under test: gRPC calls pass through keepgate from a grpc-java client (HTTP/2 by prior
 * knowledge) to a grpc-java server (an h2c upstream): unary, server streaming and bidirectional
 * streaming, with their trailers ({@code grpc-status}, {@code grpc-message}) intact; a call whose
 * server dies mid-stream ends with {@code UNAVAILABLE} and keepgate's reason, and so does one blackholed
 * behind a relay, within the PING interval plus its timeout; a route with
 * {@code streamIdleTimeoutMs} keeps a long-lived bidirectional stream open through silences longer
 * than the HTTP timeouts that cut the same stream on an ordinary route.
 */
class GrpcProxyIT {
  private static final Duration WAIT = Duration.ofSeconds(10);

  private final List<AutoCloseable> resources = new ArrayList<>();
  /** Messages the server-streaming method has sent, for the test that kills the server mid-stream. */
  private final CountDownLatch twoSent = new CountDownLatch(2);

  private static MethodDescriptor<String, String> method(String service, String name, MethodDescriptor.MethodType type) {
    return GrpcText.method(MethodDescriptor.generateFullMethodName(service, name), type);
  }

  /** Say (unary), Count (server streaming: n messages, then an error when asked), Chat (bidirectional echo). */
  private ServerServiceDefinition echo(String service) {
    return ServerServiceDefinition.builder(service)
        .addMethod(method(service, "Say", MethodDescriptor.MethodType.UNARY),
            ServerCalls.asyncUnaryCall((String request, StreamObserver<String> out) -> {
              if (request.equals("fail")) {
                out.onError(Status.FAILED_PRECONDITION.withDescription("asked to fail").asRuntimeException());
                return;
              }
              out.onNext("echo: " + request);
              out.onCompleted();
            }))
        .addMethod(method(service, "Count", MethodDescriptor.MethodType.SERVER_STREAMING),
            ServerCalls.asyncServerStreamingCall((String request, StreamObserver<String> out) -> {
              if (request.equals("forever")) {
                out.onNext("1");
                out.onNext("2");
                twoSent.countDown();
                twoSent.countDown();
                return; // never completes: the test kills the server
              }
              for (int i = 1; i <= Integer.parseInt(request); i++) {
                out.onNext(String.valueOf(i));
              }
              out.onCompleted();
            }))
        .addMethod(method(service, "Chat", MethodDescriptor.MethodType.BIDI_STREAMING),
            ServerCalls.asyncBidiStreamingCall((StreamObserver<String> out) -> new StreamObserver<String>() {
              @Override
              public void onNext(String message) {
                out.onNext("re: " + message);
              }

              @Override
              public void onError(Throwable t) {
              }

              @Override
              public void onCompleted() {
                out.onCompleted();
              }
            }))
        .build();
  }

  private Server startServer() throws IOException {
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(echo("test.Echo")).addService(echo("test.Stream"))
        .build().start();
    resources.add(() -> server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    return server;
  }

  private GatewayHarness startGateway(Server server, JsonObject tweaks) throws Exception {
    JsonObject config = GatewayHarness.config("127.0.0.1:" + server.getPort());
    config.getJsonObject("server").put("http2", new JsonObject().put("enabled", true));
    GatewayHarness.upstream(config).put("protocol", "h2c");
    config.put("routes", new JsonArray()
        .add(new JsonObject().put("name", "echo").put("upstream", "up")
            .put("match", new JsonObject().put("pathPrefix", "/test.Echo/")))
        .add(new JsonObject().put("name", "stream").put("upstream", "up").put("streamIdleTimeoutMs", 0)
            .put("match", new JsonObject().put("pathPrefix", "/test.Stream/"))));
    config.getJsonObject("server").mergeIn(tweaks.getJsonObject("server", new JsonObject()));
    GatewayHarness.upstream(config).mergeIn(tweaks.getJsonObject("upstream", new JsonObject()));
    GatewayHarness gateway = GatewayHarness.start(config);
    resources.add(gateway);
    return gateway;
  }

  private ManagedChannel channelTo(GatewayHarness gateway) {
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", gateway.port()).usePlaintext().build();
    resources.add(() -> channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    return channel;
  }

  private static CallOptions deadline() {
    return CallOptions.DEFAULT.withDeadlineAfter(WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }

  @AfterEach
  void close() throws Exception {
    for (int i = resources.size() - 1; i >= 0; i--) {
      resources.get(i).close();
    }
  }

  @Test
  void unaryServerStreamingAndBidirectionalCallsPassWithTheirTrailers() throws Exception {
    GatewayHarness gateway = startGateway(startServer(), new JsonObject());
    ManagedChannel channel = channelTo(gateway);

    assertEquals("echo: hello", ClientCalls.blockingUnaryCall(channel,
        method("test.Echo", "Say", MethodDescriptor.MethodType.UNARY), deadline(), "hello"));

    StatusRuntimeException failed = assertThrows(StatusRuntimeException.class, () -> ClientCalls.blockingUnaryCall(
        channel, method("test.Echo", "Say", MethodDescriptor.MethodType.UNARY), deadline(), "fail"));
    assertEquals(Status.Code.FAILED_PRECONDITION, failed.getStatus().getCode(), "the server's status, from its trailers");
    assertEquals("asked to fail", failed.getStatus().getDescription());

    List<String> counted = new ArrayList<>();
    Iterator<String> stream = ClientCalls.blockingServerStreamingCall(channel,
        method("test.Echo", "Count", MethodDescriptor.MethodType.SERVER_STREAMING), deadline(), "100");
    stream.forEachRemaining(counted::add);
    assertEquals(100, counted.size());
    assertEquals("100", counted.get(99));

    Chat chat = new Chat(channel, "test.Echo");
    for (int i = 0; i < 20; i++) {
      assertEquals("re: " + i, chat.say(String.valueOf(i)));
    }
    chat.end();
    assertEquals(4.0, gateway.metric("keepgate_requests_total", "code=\"200\""), "four calls, each one request");
    assertEquals(1.0, gateway.metric("keepgate_upstream_connections_opened_total"), "one HTTP/2 connection upstream");
  }

  @Test
  void aServerThatDiesMidStreamEndsTheCallWithUnavailable() throws Exception {
    Server server = startServer();
    GatewayHarness gateway = startGateway(server, new JsonObject());
    ManagedChannel channel = channelTo(gateway);
    Iterator<String> stream = ClientCalls.blockingServerStreamingCall(channel,
        method("test.Echo", "Count", MethodDescriptor.MethodType.SERVER_STREAMING), deadline(), "forever");
    assertEquals("1", stream.next());
    assertEquals("2", stream.next());
    server.shutdownNow();
    StatusRuntimeException cut = assertThrows(StatusRuntimeException.class, stream::next);
    assertEquals(Status.Code.UNAVAILABLE, cut.getStatus().getCode(), cut.toString());
    assertTrue(cut.getStatus().getDescription().startsWith("upstream broke off the call"), cut.toString());
  }

  @Test
  void aBlackholedServerIsEvictedByItsMissedPingWithinIntervalPlusTimeout() throws Exception {
    Server server = startServer();
    TcpRelay relay = new TcpRelay(new InetSocketAddress("127.0.0.1", server.getPort()));
    resources.add(relay);
    JsonObject config = GatewayHarness.config("127.0.0.1:" + relay.port());
    config.getJsonObject("server").put("http2", new JsonObject().put("enabled", true));
    GatewayHarness.upstream(config).put("protocol", "h2c")
        .put("http2Ping", new JsonObject().put("intervalMs", 200).put("timeoutMs", 300));
    GatewayHarness gateway = GatewayHarness.start(config);
    resources.add(gateway);
    Iterator<String> stream = ClientCalls.blockingServerStreamingCall(channelTo(gateway),
        method("test.Echo", "Count", MethodDescriptor.MethodType.SERVER_STREAMING), deadline(), "forever");
    assertEquals("1", stream.next());
    assertEquals("2", stream.next());
    long blackholedAt = System.nanoTime();
    relay.blackhole(); // TCP to the relay stays up: only the PING can tell the server is gone
    StatusRuntimeException cut = assertThrows(StatusRuntimeException.class, stream::next);
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - blackholedAt);
    assertEquals(Status.Code.UNAVAILABLE, cut.getStatus().getCode(), cut.toString());
    assertTrue(millis < 200 + 300 + 1000, "evicted within interval + timeout (and a tick), took " + millis + " ms");
    assertEquals(1.0, gateway.metric("keepgate_upstream_connections_closed_total", "reason=\"ping_timeout\""));
  }

  @Test
  void aStreamingRouteKeepsABidirectionalStreamThroughSilencesThatCutItElsewhere() throws Exception {
    GatewayHarness gateway = startGateway(startServer(), new JsonObject()
        .put("server", new JsonObject().put("idleTimeoutMs", 300))
        .put("upstream", new JsonObject().put("responseTimeoutMs", 300)));
    ManagedChannel channel = channelTo(gateway);
    Chat ordinary = new Chat(channel, "test.Echo");
    Chat streaming = new Chat(channel, "test.Stream");
    assertEquals("re: a", ordinary.say("a"));
    assertEquals("re: a", streaming.say("a"));
    // both fall silent: the ordinary route's HTTP timeouts cut its stream, the streaming route's stays
    Throwable cut = ordinary.failure.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    assertInstanceOf(StatusRuntimeException.class, cut);
    assertEquals("re: b", streaming.say("b"), "as silent as the one that was cut, and still open");
    streaming.end();
  }

  /** A bidirectional call driven message by message. */
  private static final class Chat {
    private final BlockingQueue<String> replies = new LinkedBlockingQueue<>();
    private final CompletableFuture<Throwable> failure = new CompletableFuture<>();
    private final CompletableFuture<Void> completed = new CompletableFuture<>();
    private final StreamObserver<String> requests;

    Chat(ManagedChannel channel, String service) {
      requests = ClientCalls.asyncBidiStreamingCall(
          channel.newCall(method(service, "Chat", MethodDescriptor.MethodType.BIDI_STREAMING), CallOptions.DEFAULT),
          new StreamObserver<>() {
            @Override
            public void onNext(String reply) {
              replies.add(reply);
            }

            @Override
            public void onError(Throwable t) {
              failure.complete(t);
            }

            @Override
            public void onCompleted() {
              completed.complete(null);
            }
          });
    }

    String say(String message) throws InterruptedException {
      requests.onNext(message);
      String reply = replies.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      if (reply == null) {
        throw new AssertionError("no reply to " + message + (failure.isDone() ? ": " + failure.join() : ""));
      }
      return reply;
    }

    void end() throws Exception {
      requests.onCompleted();
      completed.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      assertFalse(failure.isDone(), "the call completed without an error");
    }
  }
}
