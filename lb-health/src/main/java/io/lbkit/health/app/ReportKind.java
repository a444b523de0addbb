package io.lbkit.health.app;

/**
 * The three reports of an application's health: one for a liveness probe (restart when DOWN), one
 * for a load balancer's health check (take out of rotation when DOWN), one for dashboards.
 */
public enum ReportKind {
    /** {@code /health/live}: 200 while the process works, 503 when a critical liveness check is down. */
    LIVENESS,
    /** {@code /health/ready}: 200 when it can serve, 503 when a critical readiness check is down. */
    READINESS,
    /** {@code /health/detailed}: every check with its detail; always 200. */
    DETAILED
}
