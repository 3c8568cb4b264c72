package io.keepgate.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.FullHttpResponse;
import org.junit.jupiter.api.Test;

/** keepgate's own answers to gRPC requests: gRPC's status for each HTTP one, and a message in gRPC's encoding. */
class ErrorResponsesTest {

  @Test
  void aGrpcRequestIsToldItsErrorAsAGrpcStatusInATrailersOnlyResponse() {
    FullHttpResponse response = ErrorResponses.grpc(503, "no healthy endpoint: 100% ejected, café", false);
    assertEquals(200, response.status().code());
    assertEquals("application/grpc", response.headers().get("content-type"));
    assertEquals("14", response.headers().get("grpc-status"));
    assertEquals("no healthy endpoint: 100%25 ejected, caf%C3%A9", response.headers().get("grpc-message"));
    assertEquals(0, response.content().readableBytes());
    response.release();
  }

  @Test
  void httpStatusesMapAsGrpcDocumentsThemWithTimeoutsAsDeadlines() {
    assertEquals(12, ErrorResponses.grpcStatus(404), "UNIMPLEMENTED");
    assertEquals(14, ErrorResponses.grpcStatus(502), "UNAVAILABLE");
    assertEquals(14, ErrorResponses.grpcStatus(503), "UNAVAILABLE");
    assertEquals(4, ErrorResponses.grpcStatus(504), "DEADLINE_EXCEEDED");
    assertEquals(8, ErrorResponses.grpcStatus(413), "RESOURCE_EXHAUSTED");
    assertEquals(13, ErrorResponses.grpcStatus(400), "INTERNAL");
    assertEquals(2, ErrorResponses.grpcStatus(500), "UNKNOWN");
  }

  @Test
  void grpcIsToldByItsContentType() {
    assertTrue(ErrorResponses.isGrpc("application/grpc"));
    assertTrue(ErrorResponses.isGrpc("application/grpc+proto"));
    assertTrue(ErrorResponses.isGrpc("Application/GRPC-web"));
    assertFalse(ErrorResponses.isGrpc("application/json"));
    assertFalse(ErrorResponses.isGrpc(null));
  }
}
