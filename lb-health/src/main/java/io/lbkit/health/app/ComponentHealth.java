package io.lbkit.health.app;

import java.time.Duration;

/**
 * The result of one named check inside a report.
 *
 * @param name     the check's name ("redis")
 * @param status   its status
 * @param detail   its detail ("timed out after 500 ms", "IOException: connection refused", ...)
 * @param duration how long it ran (the timeout when it timed out)
 * @param kind     liveness, readiness or both
 * @param critical whether DOWN fails the report (false: DOWN only degrades it)
 * @param cached   whether this result came from the cache instead of a fresh run
 */
public record ComponentHealth(String name, Status status, String detail, Duration duration, CheckKind kind,
                              boolean critical, boolean cached) {
}
