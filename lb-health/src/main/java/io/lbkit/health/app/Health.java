package io.lbkit.health.app;

import java.util.Objects;

/**
 * What one check returns.
 *
 * @param status UP, DEGRADED or DOWN
 * @param detail short human-readable text (empty when there is nothing to say); it is shown by
 *               {@code /health/detailed}, so never put secrets in it
 */
public record Health(Status status, String detail) {

    private static final Health UP = new Health(Status.UP, "");

    public Health {
        Objects.requireNonNull(status, "status");
        detail = detail == null ? "" : detail;
    }

    public static Health up() {
        return UP;
    }

    public static Health up(String detail) {
        return new Health(Status.UP, detail);
    }

    public static Health degraded(String detail) {
        return new Health(Status.DEGRADED, detail);
    }

    public static Health down(String detail) {
        return new Health(Status.DOWN, detail);
    }
}
