package io.keepgate.proxy;

import com.sun.management.UnixOperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

/**
 * How many client connections may be open at once: {@code server.maxConnections}, and never so
 * many that the process runs out of file descriptors. Client and upstream connections share the
 * descriptors (a busy client holds two), so a client is admitted only while clients plus upstream
 * sockets stay a reserve below what the process had left at start; the reserve is for what must
 * go on working when clients flood the proxy port: the admin listener (liveness probes), the
 * cluster, health probes, the config file, and upstream connects of clients already admitted
 * (never refused for descriptors). A connection beyond the limit is refused at once.
 *
 * <p>Threading: lock-free; every event loop admits and releases.
 */
final class ConnectionLimit {
  /** The least of the reserve: descriptors never given to client and upstream connections together. */
  static final int RESERVED_FDS = 64;

  /** Why a connection was refused: the {@code reason} label of the refusals counter. */
  enum Refusal {
    MAX_CONNECTIONS("max_connections"),
    FILE_DESCRIPTORS("file_descriptors");

    final String label;

    Refusal(String label) {
      this.label = label;
    }
  }

  private final AtomicInteger open = new AtomicInteger();
  private final int configured;
  /** Descriptors clients and upstream sockets may hold together. */
  private final int descriptors;
  private final IntSupplier upstreamSockets;

  /**
   * @param maxConnections {@code server.maxConnections}; 0 for no limit of its own
   * @param maxDescriptors the process's file descriptor limit; below 0 when unknown
   * @param openDescriptors descriptors the process holds already (jars, event loops, listeners)
   * @param upstreamSockets upstream sockets open now
   */
  ConnectionLimit(int maxConnections, long maxDescriptors, long openDescriptors, IntSupplier upstreamSockets) {
    this.configured = maxConnections > 0 ? maxConnections : Integer.MAX_VALUE;
    this.upstreamSockets = upstreamSockets;
    // an eighth of the descriptors (at least RESERVED_FDS) stays for the admin listener and the rest
    long reserve = Math.max(RESERVED_FDS, maxDescriptors / 8);
    this.descriptors = maxDescriptors <= 0 ? Integer.MAX_VALUE
        : (int) Math.max(1, Math.min(Integer.MAX_VALUE, maxDescriptors - Math.max(0, openDescriptors) - reserve));
  }

  /** The limit for this process, from its own file descriptor limit and what it holds at start. */
  static ConnectionLimit forThisProcess(int maxConnections, IntSupplier upstreamSockets) {
    OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof UnixOperatingSystemMXBean unix) {
      return new ConnectionLimit(maxConnections, unix.getMaxFileDescriptorCount(), unix.getOpenFileDescriptorCount(),
          upstreamSockets);
    }
    return new ConnectionLimit(maxConnections, -1, 0, upstreamSockets);
  }

  /** Admits one more connection, or says why not (it then holds nothing). */
  Refusal tryOpen() {
    int now = open.incrementAndGet();
    if (now <= configured && (long) now + upstreamSockets.getAsInt() <= descriptors) {
      return null;
    }
    open.decrementAndGet();
    return now > configured ? Refusal.MAX_CONNECTIONS : Refusal.FILE_DESCRIPTORS;
  }

  /** An admitted connection closed. */
  void release() {
    open.decrementAndGet();
  }

  /** The most clients admitted at once: the smaller of maxConnections and the descriptors' share with no upstream socket open. */
  int limit() {
    return Math.min(configured, descriptors);
  }
}
