package io.keepgate.testing;

import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** gRPC methods whose messages are plain UTF-8 text (no protobuf), for grpc-java clients and servers in tests. */
public final class GrpcText {
  private static final MethodDescriptor.Marshaller<String> TEXT = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(String value) {
      return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String parse(InputStream stream) {
      try {
        return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };

  private GrpcText() {}

  /** The method {@code fullName} ("service/Method") of this type, with text messages. */
  public static MethodDescriptor<String, String> method(String fullName, MethodDescriptor.MethodType type) {
    return MethodDescriptor.<String, String>newBuilder().setType(type).setFullMethodName(fullName)
        .setRequestMarshaller(TEXT).setResponseMarshaller(TEXT).build();
  }
}
