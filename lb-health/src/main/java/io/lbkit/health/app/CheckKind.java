package io.lbkit.health.app;

/** Which reports a check takes part in (Spring Boot's liveness and readiness health groups). */
public enum CheckKind {
    /** Only liveness: "is the process working at all" (restart it if not). */
    LIVENESS,
    /** Only readiness: "can it serve requests now" (take it out of the load balancer if not). The default. */
    READINESS,
    /** Both reports. */
    BOTH;

    boolean inLiveness() {
        return this != READINESS;
    }

    boolean inReadiness() {
        return this != LIVENESS;
    }
}
