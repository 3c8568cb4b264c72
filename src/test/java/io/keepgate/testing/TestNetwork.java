package io.keepgate.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A test host in its own network namespace, reached from this one over a veth pair with addresses
 * from 198.18.0.0/15 (reserved for network tests; traffic never leaves this machine). It can
 * run a {@link NamespaceBackend} and be blackholed: every packet to it dropped, so no FIN or RST
 * is ever sent, as when a host loses power. Needs root, iproute2 and iptables; {@link #close}
 * removes the namespace, its veth pair and its processes even after a failed test.
 */
public final class TestNetwork implements AutoCloseable {
  private final String namespace;
  private final String hostInterface;
  private final String hostAddress;
  private final String peerAddress;
  private final List<Process> processes = new ArrayList<>();

  private TestNetwork(String namespace, String hostInterface, String hostAddress, String peerAddress) {
    this.namespace = namespace;
    this.hostInterface = hostInterface;
    this.hostAddress = hostAddress;
    this.peerAddress = peerAddress;
  }

  /**
   * Creates the namespace. Where the tools or privileges are missing the test is skipped locally,
   * but fails under CI (CI=true), where .ci/run installs them and runs as root.
   */
  public static TestNetwork create() throws Exception {
    boolean capable = ProcessHandle.current().info().user().map("root"::equals).orElse(false)
        && run(false, "ip", "-V") == 0 && run(false, "iptables", "-V") == 0;
    if (!capable) {
      if ("true".equals(System.getenv("CI"))) {
        throw new AssertionError("fault-injection tests need root, iproute2 and iptables; .ci/run installs them");
      }
      Assumptions.abort("needs root, iproute2 and iptables (CI has them)");
    }
    int id = ThreadLocalRandom.current().nextInt(1 << 14);
    int subnet = id % 256;
    int block = (id / 256) % 64 * 4;
    String third = String.valueOf(subnet);
    TestNetwork network = new TestNetwork("kgtest" + id, "kgh" + id,
        "198.18." + third + "." + (block + 1), "198.18." + third + "." + (block + 2));
    network.setUp("kgn" + id);
    return network;
  }

  private void setUp(String peerInterface) throws Exception {
    run(true, "ip", "netns", "add", namespace);
    run(true, "ip", "link", "add", hostInterface, "type", "veth", "peer", "name", peerInterface);
    run(true, "ip", "link", "set", peerInterface, "netns", namespace);
    run(true, "ip", "addr", "add", hostAddress + "/30", "dev", hostInterface);
    run(true, "ip", "link", "set", hostInterface, "up");
    run(true, "ip", "netns", "exec", namespace, "ip", "addr", "add", peerAddress + "/30", "dev", peerInterface);
    run(true, "ip", "netns", "exec", namespace, "ip", "link", "set", peerInterface, "up");
    run(true, "ip", "netns", "exec", namespace, "ip", "link", "set", "lo", "up");
  }

  /** The address of the test host. */
  public String peerAddress() {
    return peerAddress;
  }

  /** Starts a {@link NamespaceBackend} on the test host and waits until it listens. */
  public void startBackend(int port) throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    Process process = new ProcessBuilder("ip", "netns", "exec", namespace, java, "-cp",
        System.getProperty("java.class.path"), NamespaceBackend.class.getName(), peerAddress, String.valueOf(port))
        .redirectErrorStream(true).start();
    processes.add(process);
    BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine(); // blocks until the backend prints; bounded by the process starting or dying
    if (!"listening".equals(line)) {
      throw new IllegalStateException("namespace backend did not start: " + line);
    }
  }

  /** Drops every packet arriving at the test host: it vanishes without a FIN or RST. */
  public void blackhole() throws Exception {
    run(true, "ip", "netns", "exec", namespace, "iptables", "-A", "INPUT", "-j", "DROP");
  }

  @Override
  public void close() throws Exception {
    for (Process process : processes) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    run(false, "ip", "netns", "pids", namespace); // nothing to wait for; deletion kills the veth pair too
    run(false, "ip", "netns", "del", namespace);
    run(false, "ip", "link", "del", hostInterface);
  }

  private static int run(boolean mustSucceed, String... command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IOException("timed out: " + String.join(" ", command));
    }
    if (mustSucceed && process.exitValue() != 0) {
      throw new IOException(String.join(" ", command) + " failed: " + output.trim());
    }
    return process.exitValue();
  }
}
