package io.lbkit.health.app;

/** The status of one check or of a whole report, from best to worst. */
public enum Status {
    /** Working. */
    UP,
    /** Working but impaired (a non-critical check is down, or a check says so); still serving. */
    DEGRADED,
    /** Not working. */
    DOWN;

    /** The worse of two statuses. */
    public Status worse(Status other) {
        return other.ordinal() > ordinal() ? other : this;
    }
}
