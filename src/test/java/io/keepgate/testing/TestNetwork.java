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
 * from 198.18.0.0/15 (reserved for network tests; traffic never leaves this machine); its default
 * route leads back here, so it reaches any address of this namespace. It can run a
 * {@link NamespaceBackend}, be blackholed (every packet to it dropped, so no FIN or RST is ever
 * sent, as when a host loses power), be {@link #link linked} to another test host, and take
 * {@link #iptables} rules of its own. Needs root, iproute2 and iptables; {@link #close} removes the
 * namespace, its veth pairs and its processes even after a failed test.
 */
public final class TestNetwork implements AutoCloseable {
  private final int id;
  private final String namespace;
  private final String hostInterface;
  private final String hostAddress;
  private final String peerAddress;
  private final List<Process> processes = new ArrayList<>();

  private TestNetwork(int id, String namespace, String hostInterface, String hostAddress, String peerAddress) {
    this.id = id;
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
    TestNetwork network = new TestNetwork(id, "kgtest" + id, "kgh" + id,
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
    run(true, "ip", "netns", "exec", namespace, "ip", "route", "add", "default", "via", hostAddress);
  }

  /** A direct link between two test hosts: this end's address and the other's. */
  public record Link(String address, String otherAddress) {}

  /**
   * Connects this test host to {@code other} with a veth pair of their own (a /30 from
   * 198.19.0.0/16), so their traffic never passes through this namespace.
   */
  public Link link(TestNetwork other) throws Exception {
    String here = "kgl" + id;
    String there = "kgl" + other.id;
    String base = "198.19." + (id % 256) + "." + ((id / 256) % 64 * 4);
    String prefix = base.substring(0, base.lastIndexOf('.') + 1);
    int last = Integer.parseInt(base.substring(base.lastIndexOf('.') + 1));
    Link link = new Link(prefix + (last + 1), prefix + (last + 2));
    run(true, "ip", "link", "add", here, "netns", namespace, "type", "veth", "peer", "name", there, "netns",
        other.namespace);
    run(true, "ip", "netns", "exec", namespace, "ip", "addr", "add", link.address() + "/30", "dev", here);
    run(true, "ip", "netns", "exec", namespace, "ip", "link", "set", here, "up");
    run(true, "ip", "netns", "exec", other.namespace, "ip", "addr", "add", link.otherAddress() + "/30", "dev", there);
    run(true, "ip", "netns", "exec", other.namespace, "ip", "link", "set", there, "up");
    return link;
  }

  /** The namespace's name, for {@code ip netns exec}. */
  public String namespace() {
    return namespace;
  }

  /** This namespace's end of the veth pair to the test host: reachable from it, bound by servers it uses. */
  public String hostAddress() {
    return hostAddress;
  }

  /** Runs {@code iptables ARGS} inside the test host. */
  public void iptables(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace, "iptables"));
    command.addAll(List.of(args));
    run(true, command.toArray(String[]::new));
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
