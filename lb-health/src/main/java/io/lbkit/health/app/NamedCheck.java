package io.lbkit.health.app;

import java.time.Duration;
import java.util.Objects;

/**
 * A registered check: name, the check, its timeout, kind and criticality.
 *
 * @param name     unique, non-blank name ("redis")
 * @param check    the check
 * @param timeout  how long a report waits for it (default 500 ms); past that it is DOWN "timed out after N ms"
 * @param kind     which reports it takes part in (default {@link CheckKind#READINESS})
 * @param critical whether DOWN fails the report (default true); a non-critical DOWN only degrades it
 */
public record NamedCheck(String name, HealthCheck check, Duration timeout, CheckKind kind, boolean critical) {

    /** The default per-check timeout. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(500);

    public NamedCheck {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(check, "check");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(kind, "kind");
        if (name.isBlank()) {
            throw new IllegalArgumentException("name must not be blank, got '" + name + "'");
        }
        if (timeout.toMillis() < 1 || timeout.compareTo(Duration.ofMinutes(5)) > 0) {
            throw new IllegalArgumentException("check '" + name + "': timeout must be 1 ms..5 min, got " + timeout);
        }
    }

    /** A critical readiness check with the default timeout. */
    public static NamedCheck readiness(String name, HealthCheck check) {
        return new NamedCheck(name, check, DEFAULT_TIMEOUT, CheckKind.READINESS, true);
    }

    /** A critical liveness check with the default timeout. */
    public static NamedCheck liveness(String name, HealthCheck check) {
        return new NamedCheck(name, check, DEFAULT_TIMEOUT, CheckKind.LIVENESS, true);
    }

    public NamedCheck withTimeout(Duration newTimeout) {
        return new NamedCheck(name, check, newTimeout, kind, critical);
    }

    public NamedCheck withKind(CheckKind newKind) {
        return new NamedCheck(name, check, timeout, newKind, critical);
    }

    public NamedCheck withCritical(boolean newCritical) {
        return new NamedCheck(name, check, timeout, kind, newCritical);
    }
}
