/**
 * Application health for backends: named checks (a Redis ping, a disk check, ...) with timeouts,
 * aggregated into liveness, readiness and detailed reports, ready to be served as
 * {@code /health/live}, {@code /health/ready} and {@code /health/detailed}. Front door:
 * {@link io.lbkit.health.app.ApplicationHealth}.
 */
package io.lbkit.health.app;
