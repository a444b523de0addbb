package io.lbkit.core;

/**
 * The per-request half of a balancing policy: built from one snapshot of the membership, read
 * without locks on every pick (the gRPC {@code SubchannelPicker} design). Returns null when no
 * candidate can serve; the upstream then tries backups and reports "no endpoint".
 */
interface Picker {

    /**
     * Chooses a member. Implementations must skip members that {@code req} already tried, that
     * are {@link Member#banned banned} by max_fails, or at their connection cap.
     *
     * @param slowStart true while some member of the snapshot ramps up (slow start); policies
     *                  that honour slow start then read {@link Candidates#weightNow} (in hundredths)
     */
    Member pick(PickRequest req, boolean slowStart);
}
