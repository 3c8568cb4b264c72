package io.keepgate.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Hop-by-hop headers, including those Connection names, never cross keepgate; the rest do untouched. */
class HopByHopHeadersTest {

  @Test
  void fixedHopByHopHeadersAndTheOnesConnectionNamesAreDropped() {
    MultiMap from = HttpHeaders.headers()
        .add("Connection", "keep-alive, X-Secret").add("Connection", "x-other")
        .add("Keep-Alive", "timeout=5").add("Proxy-Connection", "keep-alive").add("TE", "trailers")
        .add("Trailer", "X-T").add("Transfer-Encoding", "chunked").add("Upgrade", "h2c")
        .add("X-Secret", "s").add("X-Other", "o").add("X-Kept", "1").add("X-Kept", "2").add("Host", "h");
    MultiMap to = HttpHeaders.headers();
    HopByHopHeaders.copyEndToEnd(from, to);
    Set<String> names = to.names().stream().map(String::toLowerCase).collect(Collectors.toSet());
    assertEquals(Set.of("x-kept", "host"), names);
    assertEquals(2, to.getAll("X-Kept").size(), "repeated end-to-end headers keep every value");
  }

  @Test
  void connectionTokensAreMatchedCaseInsensitivelyInLists() {
    MultiMap headers = HttpHeaders.headers().add("Connection", "Upgrade, Close");
    assertTrue(HopByHopHeaders.connectionHas(headers, "close"));
    assertTrue(HopByHopHeaders.connectionHas(headers, "upgrade"));
    assertFalse(HopByHopHeaders.connectionHas(headers, "keep-alive"));
  }

  @Test
  void keepAliveTimeoutIsReadFromTheKeepAliveHeader() {
    assertEquals(5, HopByHopHeaders.keepAliveTimeoutSeconds(HttpHeaders.headers().add("Keep-Alive", "timeout=5, max=100")));
    assertEquals(-1, HopByHopHeaders.keepAliveTimeoutSeconds(HttpHeaders.headers().add("Keep-Alive", "max=100")));
    assertEquals(-1, HopByHopHeaders.keepAliveTimeoutSeconds(HttpHeaders.headers()));
    assertEquals(-1, HopByHopHeaders.keepAliveTimeoutSeconds(HttpHeaders.headers().add("Keep-Alive", "timeout=x")));
  }
}
