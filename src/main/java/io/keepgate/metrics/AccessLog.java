package io.keepgate.metrics;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * One line per proxied request on stdout:
 * {@code 2026-12-01T08:00:00.123Z 10.0.0.1:51234 GET /path route=… endpoint=… status=… bytes=… total_ms=… upstream_ms=… conn=reused|new|none}.
 *
 * <p>The event loop formats the line and queues it; a writer thread drains the queue every
 * {@link #BATCH_MILLIS} and writes what it holds with one system call. So a request pays for the
 * formatting only: no thread wakeup, no write, no flush of its own (a logging framework's
 * asynchronous appender wakes its thread and flushes on every line). When stdout cannot keep up
 * and the queue is full, lines are dropped and counted ({@code keepgate_access_log_dropped_total}),
 * never waited for.
 *
 * <p>Threading: {@link #log} from every event loop (the queue's lock is held for an offer, never
 * contended for long: the writer drains in one step); one daemon writer thread; {@link #close} from
 * the stopping thread.
 */
public final class AccessLog implements AutoCloseable {
  /** How long lines may wait before they are written. */
  static final long BATCH_MILLIS = 20;
  private static final int CAPACITY = 65536;
  private static final DateTimeFormatter SECOND = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss");

  private final boolean enabled;
  private final ArrayBlockingQueue<String> lines;
  private final OutputStream out;
  private final LongAdder dropped = new LongAdder();
  private final Thread writer;
  private volatile boolean closed;
  /** The formatted second of the last line, reused by every line of the same second. */
  private volatile Second second = new Second(-1, "");

  private record Second(long epochSecond, String text) {}

  /** An access log writing to stdout, or a disabled one. */
  public AccessLog(boolean enabled) {
    this(enabled, new FileOutputStream(FileDescriptor.out), CAPACITY);
  }

  AccessLog(boolean enabled, OutputStream out, int capacity) {
    this.enabled = enabled;
    this.out = out;
    this.lines = enabled ? new ArrayBlockingQueue<>(capacity) : null;
    this.writer = enabled ? new Thread(this::writeLoop, "keepgate-access-log") : null;
    if (writer != null) {
      writer.setDaemon(true);
      writer.start();
    }
  }

  public boolean enabled() {
    return enabled;
  }

  /** Lines dropped because the queue was full. */
  public long dropped() {
    return dropped.sum();
  }

  /**
   * @param endpoint      the upstream endpoint, or "-" when none was reached
   * @param connection    "reused", "new", or "none" when no upstream connection was used
   * @param upstreamNanos time from sending upstream to the response end, or -1
   */
  public void log(String clientHost, int clientPort, String method, String path, String route, String endpoint,
      int status, long bytes, long totalNanos, long upstreamNanos, String connection) {
    if (!enabled) {
      return;
    }
    StringBuilder line = new StringBuilder(200);
    appendTime(line, System.currentTimeMillis());
    line.append(' ').append(clientHost).append(':').append(clientPort)
        .append(' ').append(method).append(' ').append(path)
        .append(" route=").append(route)
        .append(" endpoint=").append(endpoint)
        .append(" status=").append(status)
        .append(" bytes=").append(bytes)
        .append(" total_ms=");
    appendMillis(line, totalNanos).append(" upstream_ms=");
    if (upstreamNanos < 0) {
      line.append('-');
    } else {
      appendMillis(line, upstreamNanos);
    }
    line.append(" conn=").append(connection).append('\n');
    if (!lines.offer(line.toString())) {
      dropped.increment();
    }
  }

  private void appendTime(StringBuilder line, long epochMillis) {
    long epochSecond = Math.floorDiv(epochMillis, 1000);
    Second cached = second;
    if (cached.epochSecond() != epochSecond) {
      cached = new Second(epochSecond, SECOND.format(LocalDateTime.ofEpochSecond(epochSecond, 0, ZoneOffset.UTC)));
      second = cached;
    }
    int millis = (int) Math.floorMod(epochMillis, 1000);
    line.append(cached.text()).append('.').append((char) ('0' + millis / 100))
        .append((char) ('0' + millis / 10 % 10)).append((char) ('0' + millis % 10)).append('Z');
  }

  private static StringBuilder appendMillis(StringBuilder line, long nanos) {
    long micros = nanos / 1000;
    line.append(micros / 1000).append('.');
    long fraction = micros % 1000;
    if (fraction < 100) {
      line.append('0');
    }
    if (fraction < 10) {
      line.append('0');
    }
    return line.append(fraction);
  }

  private void writeLoop() {
    List<String> batch = new ArrayList<>(1024);
    StringBuilder text = new StringBuilder(64 * 1024);
    while (true) {
      boolean stopping = closed;
      lines.drainTo(batch);
      if (!batch.isEmpty()) {
        batch.forEach(text::append);
        batch.clear();
        try {
          out.write(text.toString().getBytes(StandardCharsets.UTF_8));
          out.flush();
        } catch (IOException e) {
          // stdout is gone: nothing to tell it with
        }
        text.setLength(0);
      } else if (stopping) {
        return;
      } else {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(BATCH_MILLIS));
      }
    }
  }

  /** Writes the lines still queued and stops the writer. */
  @Override
  public void close() {
    if (writer == null) {
      return;
    }
    closed = true;
    LockSupport.unpark(writer);
    try {
      writer.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
