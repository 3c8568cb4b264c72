package io.keepgate.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Access log lines have their documented shape, all reach the output, and a full queue drops lines instead of waiting. */
class AccessLogTest {

  @Test
  void everyLineIsWrittenInTheDocumentedFormat() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    AccessLog log = new AccessLog(true, out, 16);
    log.log("10.0.0.1", 51234, "GET", "/a/b", "api", "127.0.0.1:9001", 200, 1024, 3_922_000, 3_790_000, "reused");
    log.log("10.0.0.2", 1, "POST", "/", "no_route", "-", 404, 30, 120_000, -1, "none");
    log.close();
    String[] lines = out.toString(StandardCharsets.UTF_8).split("\n");
    assertEquals(2, lines.length);
    assertTrue(lines[0].matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z 10\\.0\\.0\\.1:51234 GET /a/b route=api "
        + "endpoint=127\\.0\\.0\\.1:9001 status=200 bytes=1024 total_ms=3\\.922 upstream_ms=3\\.790 conn=reused"), lines[0]);
    assertTrue(lines[1].endsWith(" 10.0.0.2:1 POST / route=no_route endpoint=- status=404 bytes=30 total_ms=0.120 "
        + "upstream_ms=- conn=none"), lines[1]);
  }

  @Test
  void whenTheOutputCannotKeepUpLinesAreDroppedAndCounted() throws Exception {
    CountDownLatch writing = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ByteArrayOutputStream written = new ByteArrayOutputStream();
    OutputStream stuck = new OutputStream() {
      @Override
      public void write(int b) {
        written.write(b);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        writing.countDown();
        try {
          release.await(10, TimeUnit.SECONDS); // a pipe nobody reads
        } catch (InterruptedException e) {
          throw new IOException(e);
        }
        written.write(b, off, len);
      }
    };
    AccessLog log = new AccessLog(true, stuck, 4);
    log.log("c", 1, "GET", "/first", "r", "-", 200, 0, 0, -1, "none");
    assertTrue(writing.await(10, TimeUnit.SECONDS), "the writer took the first line and is stuck writing it");
    for (int i = 0; i < 10; i++) {
      log.log("c", 1, "GET", "/" + i, "r", "-", 200, 0, 0, -1, "none");
    }
    assertEquals(6, log.dropped(), "four queued, six dropped: the caller never waited");
    release.countDown();
    log.close();
    assertEquals(5, written.toString(StandardCharsets.UTF_8).split("\n").length);
  }

  @Test
  void aDisabledLogWritesNothing() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    AccessLog log = new AccessLog(false, out, 4);
    log.log("c", 1, "GET", "/", "r", "-", 200, 0, 0, -1, "none");
    log.close();
    assertEquals(0, out.size());
  }
}
