package io.keepgate.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.config.HealthCheckConfig;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A new endpoint's share of the requests the balancer gives it ramps from 10 % to all of them over
 * the window, in virtual time; the requests it does not take go to an endpoint that is not
 * ramping, and with none healthy it takes them all.
 */
class SlowStartTest {
  private static final int DRAWS = 20_000;

  private final PoolFixture warm = fixture("warm:80");
  private final PoolFixture cold = fixture("cold:80");
  private final List<UpstreamEndpoint> endpoints = List.of(warm.endpoint, cold.endpoint);

  private static PoolFixture fixture(String address) {
    try {
      return new PoolFixture(1, "{\"name\":\"up\",\"endpoints\":[\"" + address + "\"]}", 0);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** The fraction of draws for the cold endpoint that it keeps. */
  private double keptByCold() {
    int kept = 0;
    for (int i = 0; i < DRAWS; i++) {
      kept += SlowStart.apply(endpoints, cold.endpoint) == cold.endpoint ? 1 : 0;
    }
    return (double) kept / DRAWS;
  }

  @Test
  void theShareRampsLinearlyFromATenthToAll() {
    cold.endpoint.startSlowly(new SlowStart(cold.ticker, Duration.ofSeconds(10).toNanos()));
    assertTrue(cold.endpoint.warming());
    assertEquals(0.1, keptByCold(), 0.02, "at first: the minimum share");
    cold.advance(Duration.ofSeconds(5));
    assertEquals(0.5, keptByCold(), 0.03, "half way");
    cold.advance(Duration.ofSeconds(4));
    assertEquals(0.9, keptByCold(), 0.02, "nearly there");
    cold.advance(Duration.ofSeconds(1));
    assertEquals(1.0, keptByCold(), "the window is over: every request");
    assertNull(cold.endpoint.slowStart(), "and the ramp is dropped");
    assertFalse(cold.endpoint.warming());
    assertEquals(warm.endpoint, SlowStart.apply(endpoints, warm.endpoint), "an endpoint not ramping keeps its draws");
  }

  @Test
  void aRampingEndpointTakesEverythingWhenNoOtherIsHealthy() {
    cold.endpoint.startSlowly(new SlowStart(cold.ticker, Duration.ofSeconds(10).toNanos()));
    for (int i = 0; i < HealthCheckConfig.DEFAULT_UNHEALTHY_THRESHOLD; i++) {
      warm.endpoint.health().onFailure("connect refused");
    }
    assertFalse(warm.endpoint.health().healthy(), "the other endpoint is ejected");
    assertEquals(1.0, keptByCold());
  }
}
