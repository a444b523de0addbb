package io.lbkit.health;

import java.util.Objects;

/**
 * A point-in-time view of one endpoint's health for status pages and tests.
 *
 * @param endpointId         the endpoint
 * @param state              the joined state
 * @param activeState        the active-check view alone: {@link EndpointHealthState#CHECKING},
 *                           {@link EndpointHealthState#UP} or {@link EndpointHealthState#UNHEALTHY}
 * @param ejected            whether outlier detection has it ejected now
 * @param ejectionMultiplier Envoy's ejection back-off: the next ejection lasts
 *                           {@code baseEjectionTime × (multiplier + 1)} (capped)
 * @param ejections          how many times it was ejected in total
 */
public record EndpointHealth(String endpointId, EndpointHealthState state, EndpointHealthState activeState,
                             boolean ejected, int ejectionMultiplier, long ejections) {
    public EndpointHealth {
        Objects.requireNonNull(endpointId, "endpointId");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(activeState, "activeState");
    }
}
