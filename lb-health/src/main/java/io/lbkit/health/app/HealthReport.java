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

    /**
     * The HTTP status to serve: 200 when healthy, else 503, which every HTTP health check reads as a
     * failure (HAProxy {@code option httpchk} passes only 2xx and 3xx, Envoy's HTTP health check only
     * 200 by default, lbkit's {@code HttpCheck} 200-399). The detailed report is always 200: it is for
     * dashboards and carries the failures in its body, so probing it never takes an instance out.
     */
    public int httpStatus() {
        return kind == ReportKind.DETAILED || healthy ? 200 : 503;
    }
}
