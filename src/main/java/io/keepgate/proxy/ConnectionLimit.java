package io.keepgate.proxy;

import com.sun.management.UnixOperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many client connections may be open at once: {@code server.maxConnections}, and never so
 * many that the process runs out of file descriptors. A share of them is kept for what must go on
 * working when clients flood the proxy port: upstream connections, the admin listener (liveness
 * probes), the cluster and the config file. A connection beyond the limit is refused at once.
 *
 * <p>Threading: lock-free; every event loop admits and releases.
 */
final class ConnectionLimit {
  /** File descriptors never given to client connections: admin, cluster, files, logs. */
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
  private final int descriptors;

  /**
   * @param maxConnections {@code server.maxConnections}; 0 for no limit of its own
   * @param maxDescriptors the process's file descriptor limit; below 0 when unknown
   * @param openDescriptors descriptors the process holds already (jars, event loops, listeners)
   */
  ConnectionLimit(int maxConnections, long maxDescriptors, long openDescriptors) {
    this.configured = maxConnections > 0 ? maxConnections : Integer.MAX_VALUE;
    // an eighth of the descriptors (at least RESERVED_FDS) stays for upstream connections and the rest
    long reserve = Math.max(RESERVED_FDS, maxDescriptors / 8);
    this.descriptors = maxDescriptors <= 0 ? Integer.MAX_VALUE
        : (int) Math.max(1, Math.min(Integer.MAX_VALUE, maxDescriptors - Math.max(0, openDescriptors) - reserve));
  }

  /** The limit for this process, from its own file descriptor limit and what it holds at start. */
  static ConnectionLimit forThisProcess(int maxConnections) {
    OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof UnixOperatingSystemMXBean unix) {
      return new ConnectionLimit(maxConnections, unix.getMaxFileDescriptorCount(), unix.getOpenFileDescriptorCount());
    }
    return new ConnectionLimit(maxConnections, -1, 0);
  }

  /** Admits one more connection, or says why not (it then holds nothing). */
  Refusal tryOpen() {
    int now = open.incrementAndGet();
    if (now <= configured && now <= descriptors) {
      return null;
    }
    open.decrementAndGet();
    return now > configured ? Refusal.MAX_CONNECTIONS : Refusal.FILE_DESCRIPTORS;
  }

  /** An admitted connection closed. */
  void release() {
    open.decrementAndGet();
  }

  /** The effective limit: the smaller of maxConnections and the descriptors' share. */
  int limit() {
    return Math.min(configured, descriptors);
  }
}
