package io.keepgate.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.config.HealthCheckConfig;
import io.keepgate.health.HealthState.Transition;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Consecutive thresholds decide; traffic can eject but only probes readmit. */
class HealthStateTest {
  private final HealthState state = new HealthState(
      new HealthCheckConfig("/healthz", Duration.ofSeconds(5), Duration.ofSeconds(1), 3, 2));

  @Test
  void ejectsAfterExactlyUnhealthyThresholdConsecutiveFailures() {
    assertEquals(Transition.NONE, state.onFailure());
    assertEquals(Transition.NONE, state.onFailure());
    assertEquals(Transition.EJECTED, state.onFailure());
    assertFalse(state.healthy());
    assertEquals(Transition.NONE, state.onFailure(), "already ejected");
  }

  @Test
  void aCompletedExchangeClearsTheFailureStreak() {
    state.onFailure();
    state.onFailure();
    state.onTrafficSuccess();
    assertEquals(Transition.NONE, state.onFailure());
    assertEquals(Transition.NONE, state.onFailure());
    assertTrue(state.healthy(), "two failures after a success do not reach the threshold of three");
  }

  @Test
  void readmitsAfterExactlyHealthyThresholdConsecutiveProbeSuccesses() {
    state.onFailure();
    state.onFailure();
    state.onFailure();
    state.onTrafficSuccess();
    assertFalse(state.healthy(), "traffic never readmits an ejected endpoint");
    assertEquals(Transition.NONE, state.onProbeSuccess());
    assertEquals(Transition.NONE, state.onFailure(), "a failed probe resets the success streak");
    assertEquals(Transition.NONE, state.onProbeSuccess());
    assertEquals(Transition.READMITTED, state.onProbeSuccess());
    assertTrue(state.healthy());
  }

  @Test
  void aPeersVerdictIsAdoptedAsIs() {
    assertEquals(Transition.EJECTED, state.adopt(false));
    assertEquals(Transition.NONE, state.adopt(false));
    assertEquals(Transition.READMITTED, state.adopt(true));
  }
}
