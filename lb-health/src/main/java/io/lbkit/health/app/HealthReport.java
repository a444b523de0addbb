package io.lbkit.health.app;

import java.time.Instant;
import java.util.List;

/**
 * A liveness, readiness or detailed report.
 *
 * @param kind       which report
 * @param status     DOWN if a critical check is DOWN; else DEGRADED if any check is DOWN or DEGRADED; else UP
 * @param healthy    {@code status != DOWN}: live (liveness) or ready (readiness)
 * @param checkedAt  when the report was assembled
 * @param components the checks of this report, in registration order
 */
public record HealthReport(ReportKind kind, Status status, boolean healthy, Instant checkedAt,
                           List<ComponentHealth> components) {

    public HealthReport {
        components = List.copyOf(components);
    }

    /** The HTTP status to serve: 200 or 503, and always 200 for the detailed report (seed 004). */
    public int httpStatus() {
        return kind == ReportKind.DETAILED || healthy ? 200 : 503;
    }
}
