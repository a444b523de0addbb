package io.lbkit.health;

/**
 * The active-check view of an endpoint before its first probe, after HAProxy's {@code init-state}.
 */
public enum InitialState {
    /**
     * Not healthy until {@code rise} consecutive probes pass (the default). HAProxy
     * {@code init-state fully-down}; nginx Plus {@code health_check mandatory}.
     */
    CHECKING,
    /** Not healthy, but the first passing probe makes it healthy. HAProxy {@code init-state down}; Envoy's start-up rule. */
    DOWN,
    /**
     * Healthy, but the first failing probe makes it unhealthy ("up, going down"). HAProxy's default
     * ({@code init-state up}).
     */
    UP,
    /** Healthy until {@code fall} consecutive probes fail. HAProxy {@code init-state fully-up}. */
    FULLY_UP
}
