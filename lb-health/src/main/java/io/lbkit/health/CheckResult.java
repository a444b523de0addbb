package io.lbkit.health;

import java.util.Objects;

/**
 * The result of one active probe of one endpoint, together with the endpoint's active-check view
 * after applying HAProxy-style rise/fall counting.
 *
 * @param endpointId           the probed endpoint
 * @param passed               whether this probe passed
 * @param status               HTTP status for an HTTP probe that got one, else 0
 * @param detail               short human-readable reason ("200", "connect refused", "timeout after
 *                             1000 ms", "body did not match", ...), never a secret
 * @param durationNanos        how long the probe took
 * @param healthy              the active view after this probe (rise/fall applied)
 * @param changed              whether this probe flipped {@code healthy}
 * @param consecutivePasses    passes in a row including this one (0 if it failed)
 * @param consecutiveFailures  failures in a row including this one (0 if it passed)
 */
public record CheckResult(String endpointId, boolean passed, int status, String detail, long durationNanos,
                          boolean healthy, boolean changed, int consecutivePasses, int consecutiveFailures) {
    public CheckResult {
        Objects.requireNonNull(endpointId, "endpointId");
        Objects.requireNonNull(detail, "detail");
    }
}
