package io.keepgate.config;

/** How a request picks one endpoint of its upstream. */
public enum LoadBalancing {
  ROUND_ROBIN("round-robin"),
  LEAST_REQUESTS("least-requests"),
  RANDOM("random");

  private final String jsonName;

  LoadBalancing(String jsonName) {
    this.jsonName = jsonName;
  }

  /** The name used in JSON config. */
  public String jsonName() {
    return jsonName;
  }

  /** The value with this JSON name, or {@code null}. */
  public static LoadBalancing fromJson(String name) {
    for (LoadBalancing lb : values()) {
      if (lb.jsonName.equals(name)) {
        return lb;
      }
    }
    return null;
  }
}
