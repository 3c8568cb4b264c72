package io.keepgate.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kernel's view of TCP sockets, read with iproute2's {@code ss}: what an operator would check
 * on the host. Test thread only; callers skip their kernel checks when {@link #installed()} is false.
 */
public final class KernelSockets {
  /** ss's keepalive timer, e.g. {@code timer:(keepalive,6.724ms,0)}: time left, then probes sent. */
  public static final Pattern KEEPALIVE_TIMER = Pattern.compile("timer:\\(keepalive,([^,]+),(\\d+)\\)");
  /**
   * iproute2's print_ms_timer format: [Nmin][S(sec|.)][MMMms], so 6.724 s prints as {@code 6.724ms},
   * 7 s as {@code 7sec}, 0.5 s as {@code 500ms} and two hours as {@code 120min}.
   */
  private static final Pattern SS_DURATION = Pattern.compile("(?:(\\d+)min)?(?:(\\d+)(?:sec|\\.))?(?:(\\d+)ms)?");

  private KernelSockets() {}

  /** Whether {@code ss} can be run here. */
  public static boolean installed() {
    try {
      Process ss = new ProcessBuilder("ss", "-V").redirectErrorStream(true).start();
      ss.getInputStream().readAllBytes();
      return ss.waitFor(10, TimeUnit.SECONDS) && ss.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * One line per TCP socket in {@code state} (an ss state name: established, time-wait, ...) with
   * this local and remote port (0 = any), with timers ({@code -o}) and TCP info ({@code -i})
   * joined onto the line. For keepgate's end of an upstream connection, the local port is the
   * client port the backend saw and the remote port is the backend's.
   */
  public static List<String> sockets(String state, int localPort, int remotePort) {
    List<String> command = new ArrayList<>(List.of("ss", "-tnoi", "state", state));
    if (localPort > 0) {
      command.addAll(List.of("sport", "=", ":" + localPort));
    }
    if (remotePort > 0) {
      command.addAll(List.of("dport", "=", ":" + remotePort));
    }
    String out = run(command.toArray(String[]::new));
    List<String> sockets = new ArrayList<>();
    for (String line : out.split("\n")) {
      if (line.isBlank() || line.startsWith("Recv-Q") || line.startsWith("Netid")) {
        continue;
      }
      if (Character.isWhitespace(line.charAt(0)) && !sockets.isEmpty()) {
        sockets.set(sockets.size() - 1, sockets.get(sockets.size() - 1) + " " + line.trim()); // -i info line
      } else {
        sockets.add(line.trim());
      }
    }
    return sockets;
  }

  /** Seconds in one of ss's timer values ({@code 6.724ms}, {@code 7sec}, {@code 500ms}, {@code 120min}). */
  public static double seconds(String ssTimer) {
    Matcher m = SS_DURATION.matcher(ssTimer);
    if (ssTimer.isEmpty() || !m.matches()) {
      throw new AssertionError("not an ss timer value: " + ssTimer);
    }
    return (m.group(1) == null ? 0 : Integer.parseInt(m.group(1)) * 60.0)
        + (m.group(2) == null ? 0 : Integer.parseInt(m.group(2)))
        + (m.group(3) == null ? 0 : Integer.parseInt(m.group(3)) / 1000.0);
  }

  private static String run(String... command) {
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(10, TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new AssertionError(String.join(" ", command) + " failed: " + out);
      }
      return out;
    } catch (IOException e) {
      throw new AssertionError(String.join(" ", command) + ": " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted running " + String.join(" ", command));
    }
  }
}
