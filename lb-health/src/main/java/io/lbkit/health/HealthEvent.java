package io.lbkit.health;

import java.util.Objects;

/**
 * One state transition of one endpoint, published in order by {@link HealthMonitor}.
 *
 * @param upstream   the upstream's name
 * @param endpointId the endpoint
 * @param from       the state before, or {@code null} when the endpoint just joined the monitor
 * @param to         the state after, or {@code null} when the endpoint left (was removed)
 * @param reason     why, in a few words ("consecutive 5xx: 5", "drained by operator", ...)
 * @param sequence   1, 2, 3... in publication order, per monitor
 * @param nanos      the monitor's ticker time of the transition
 */
public record HealthEvent(String upstream, String endpointId, EndpointHealthState from,
                          EndpointHealthState to, String reason, long sequence, long nanos) {
    public HealthEvent {
        Objects.requireNonNull(upstream, "upstream");
        Objects.requireNonNull(endpointId, "endpointId");
        Objects.requireNonNull(reason, "reason");
    }
}
