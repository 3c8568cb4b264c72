package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.GrpcText;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The claim under test: a gRPC client (grpc-java, h2c) that meets an error keepgate itself makes
 * gets it as a gRPC status, not as an HTTP error page it cannot read: no route is
 * {@code UNIMPLEMENTED}, an upstream that cannot be reached {@code UNAVAILABLE}, each with
 * keepgate's reason as the message.
 */
class GrpcErrorsIT {

  private static StatusRuntimeException call(int port, String method) throws InterruptedException {
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    try {
      MethodDescriptor<String, String> descriptor = GrpcText.method(method, MethodDescriptor.MethodType.UNARY);
      return assertThrows(StatusRuntimeException.class, () -> ClientCalls.blockingUnaryCall(channel, descriptor,
          CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), "hello"));
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void keepgatesOwnErrorsReachAGrpcClientAsGrpcStatuses() throws Exception {
    JsonObject config = GatewayHarness.config("127.0.0.1:1"); // nothing listens there
    config.getJsonObject("server").put("http2", new JsonObject().put("enabled", true));
    config.put("routes", new JsonArray().add(new JsonObject().put("name", "echo")
        .put("match", new JsonObject().put("pathPrefix", "/test.Echo/")).put("upstream", "up")));
    try (GatewayHarness gateway = GatewayHarness.start(config)) {
      StatusRuntimeException unavailable = call(gateway.port(), "test.Echo/Say");
      assertEquals(Status.Code.UNAVAILABLE, unavailable.getStatus().getCode(), unavailable.toString());
      assertTrue(unavailable.getStatus().getDescription().startsWith("connect to upstream failed"),
          unavailable.getStatus().getDescription());

      StatusRuntimeException unimplemented = call(gateway.port(), "test.Other/Say");
      assertEquals(Status.Code.UNIMPLEMENTED, unimplemented.getStatus().getCode(), unimplemented.toString());
      assertEquals("no route matches this request", unimplemented.getStatus().getDescription());

      assertEquals(1.0, gateway.metric("keepgate_requests_total", "code=\"502\""), "metrics keep the HTTP status");
    }
  }
}
