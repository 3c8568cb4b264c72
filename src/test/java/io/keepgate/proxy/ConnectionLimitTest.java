package io.keepgate.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Client connections and upstream sockets share the file descriptors: a client is admitted only
 * while both together stay the reserve below what the process had left at start.
 */
class ConnectionLimitTest {
  /** 1,000 descriptors, 100 held at start, a reserve of 1000 / 8 = 125: 775 for clients and upstreams. */
  private static final int SHARE = 1000 - 100 - 125;

  private final AtomicInteger upstreamSockets = new AtomicInteger();

  private int admitAll(ConnectionLimit limit) {
    int admitted = 0;
    while (limit.tryOpen() == null) {
      admitted++;
    }
    return admitted;
  }

  @Test
  void withNoUpstreamSocketOpenClientsTakeTheWholeShare() {
    ConnectionLimit limit = new ConnectionLimit(0, 1000, 100, upstreamSockets::get);
    assertEquals(SHARE, limit.limit());
    assertEquals(SHARE, admitAll(limit));
    assertEquals(ConnectionLimit.Refusal.FILE_DESCRIPTORS, limit.tryOpen());
  }

  @Test
  void upstreamSocketsTakeTheirDescriptorsFromTheClientsShare() {
    ConnectionLimit limit = new ConnectionLimit(0, 1000, 100, upstreamSockets::get);
    upstreamSockets.set(300);
    assertEquals(SHARE - 300, admitAll(limit), "a busy client holds two descriptors");
    assertEquals(ConnectionLimit.Refusal.FILE_DESCRIPTORS, limit.tryOpen());

    upstreamSockets.set(299); // an upstream connection closed
    assertNull(limit.tryOpen(), "its descriptor admits one more client");
    limit.release();
    limit.release(); // a client left
    assertNull(limit.tryOpen());
    assertNull(limit.tryOpen());
    assertEquals(ConnectionLimit.Refusal.FILE_DESCRIPTORS, limit.tryOpen());
  }

  @Test
  void maxConnectionsRefusesByItsOwnReasonAndUpstreamSocketsDoNotCountAgainstIt() {
    ConnectionLimit limit = new ConnectionLimit(10, 1000, 100, upstreamSockets::get);
    upstreamSockets.set(SHARE - 20);
    assertEquals(10, admitAll(limit));
    assertEquals(ConnectionLimit.Refusal.MAX_CONNECTIONS, limit.tryOpen());
  }

  @Test
  void theReserveIsAtLeast64Descriptors() {
    ConnectionLimit limit = new ConnectionLimit(0, 256, 50, upstreamSockets::get);
    assertEquals(256 - 50 - ConnectionLimit.RESERVED_FDS, admitAll(limit));
  }

  @Test
  void anUnknownDescriptorLimitLeavesOnlyMaxConnections() {
    upstreamSockets.set(1_000_000);
    assertEquals(5, admitAll(new ConnectionLimit(5, -1, 0, upstreamSockets::get)));
  }
}
