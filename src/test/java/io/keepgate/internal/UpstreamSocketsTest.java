package io.keepgate.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.channel.ChannelFactory;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

/** Every channel the counting factory makes is counted from its creation until it closes. */
class UpstreamSocketsTest {

  @Test
  void aChannelIsCountedFromItsCreationUntilItCloses() {
    UpstreamSockets sockets = new UpstreamSockets();
    ChannelFactory<EmbeddedChannel> channels = sockets.counting(EmbeddedChannel::new);
    EmbeddedChannel first = channels.newChannel();
    EmbeddedChannel second = channels.newChannel();
    assertEquals(2, sockets.open());

    first.close();
    assertEquals(1, sockets.open());
    first.close(); // closing twice releases once
    assertEquals(1, sockets.open());
    second.close();
    assertEquals(0, sockets.open());
  }
}
