package io.keepgate.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.upstream.KeepAliveHeader;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Hop-by-hop headers, including those Connection names, never cross keepgate; the rest do untouched. */
class HopByHopHeadersTest {

  @Test
  void fixedHopByHopHeadersAndTheOnesConnectionNamesAreDropped() {
    HttpHeaders headers = new DefaultHttpHeaders()
        .add("Connection", "keep-alive, X-Secret").add("Connection", "x-other")
        .add("Keep-Alive", "timeout=5").add("Proxy-Connection", "keep-alive").add("TE", "trailers")
        .add("Trailer", "X-T").add("Transfer-Encoding", "chunked").add("Upgrade", "h2c")
        .add("Proxy-Authorization", "Basic eA==")
        .add("X-Secret", "s").add("X-Other", "o").add("X-Kept", "1").add("X-Kept", "2").add("Host", "h");
    HopByHopHeaders.strip(headers);
    Set<String> names = headers.names().stream().map(String::toLowerCase).collect(Collectors.toSet());
    assertEquals(Set.of("x-kept", "host"), names);
    assertEquals(2, headers.getAll("X-Kept").size(), "repeated end-to-end headers keep every value");
  }

  @Test
  void connectionCannotStripTheHeadersThatFrameOrRouteTheMessage() {
    HttpHeaders headers = new DefaultHttpHeaders()
        .add("Connection", "Content-Length, Host").add("Content-Length", "5").add("Host", "h");
    HopByHopHeaders.strip(headers);
    assertEquals("5", headers.get("content-length"));
    assertEquals("h", headers.get("host"));
  }

  @Test
  void aMessageWithoutHopByHopHeadersIsLeftAsItIs() {
    HttpHeaders headers = new DefaultHttpHeaders().add("Host", "h").add("Accept", "*/*").add("X-Connection", "x");
    HopByHopHeaders.strip(headers);
    assertEquals(3, headers.size());
  }

  @Test
  void connectionTokensAreMatchedCaseInsensitivelyInLists() {
    HttpHeaders headers = new DefaultHttpHeaders().add("Connection", "Upgrade, Close");
    assertTrue(HopByHopHeaders.connectionHas(headers, "close"));
    assertTrue(HopByHopHeaders.connectionHas(headers, "upgrade"));
    assertFalse(HopByHopHeaders.connectionHas(headers, "keep-alive"));
  }

  @Test
  void keepAliveTimeoutIsReadFromTheKeepAliveHeader() {
    assertEquals(5, KeepAliveHeader.timeoutSeconds(new DefaultHttpHeaders().add("Keep-Alive", "timeout=5, max=100")));
    assertEquals(-1, KeepAliveHeader.timeoutSeconds(new DefaultHttpHeaders().add("Keep-Alive", "max=100")));
    assertEquals(-1, KeepAliveHeader.timeoutSeconds(new DefaultHttpHeaders()));
    assertEquals(-1, KeepAliveHeader.timeoutSeconds(new DefaultHttpHeaders().add("Keep-Alive", "timeout=x")));
  }
}
