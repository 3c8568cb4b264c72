package io.keepgate.bench;

import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC backend of {@code bench/run}'s gRPC cell: one unary method, {@code bench.Echo/Say},
 * answering the request's bytes (no protobuf: the message is its raw bytes), on a grpc-java Netty
 * server with one event loop. PINGs are allowed every 5 s, so keepgate's 10 s probe is welcome.
 *
 * <p>Run: {@code java -cp <test classpath> io.keepgate.bench.GrpcEchoServer <port>}.
 */
public final class GrpcEchoServer {
  private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };

  private GrpcEchoServer() {}

  public static void main(String[] args) throws Exception {
    MethodDescriptor<byte[], byte[]> say = MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("bench.Echo/Say")
        .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0])))
        .permitKeepAliveTime(5, TimeUnit.SECONDS).permitKeepAliveWithoutCalls(true)
        .directExecutor()
        .addService(ServerServiceDefinition.builder("bench.Echo")
            .addMethod(say, ServerCalls.asyncUnaryCall((request, out) -> {
              out.onNext(request);
              out.onCompleted();
            }))
            .build())
        .build().start();
    System.out.println("grpc echo on " + server.getPort());
    server.awaitTermination();
  }
}
