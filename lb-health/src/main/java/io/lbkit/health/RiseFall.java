package io.lbkit.health;

/**
 * The pure rise/fall counter of one endpoint's active view (no I/O, no time). Counting is strictly
 * consecutive: a healthy endpoint becomes unhealthy after {@code fall} failures in a row, an unhealthy
 * one healthy after {@code rise} passes in a row. A provisional state ({@link InitialState#UP},
 * {@link InitialState#DOWN}) is decided by the first result alone.
 *
 * @param healthy     the current view
 * @param provisional the first result alone decides the view
 * @param passes      passes in a row (0 after a failure)
 * @param failures    failures in a row (0 after a pass)
 * @param checked     at least one result has been applied
 */
record RiseFall(boolean healthy, boolean provisional, int passes, int failures, boolean checked) {

    static RiseFall initial(InitialState state) {
        return switch (state) {
            case CHECKING -> new RiseFall(false, false, 0, 0, false);
            case DOWN -> new RiseFall(false, true, 0, 0, false);
            case UP -> new RiseFall(true, true, 0, 0, false);
            case FULLY_UP -> new RiseFall(true, false, 0, 0, false);
        };
    }

    /** The state after one probe result. */
    RiseFall apply(boolean passed, int rise, int fall) {
        int p = passed ? sat(passes + 1) : 0;
        int f = passed ? 0 : sat(failures + 1);
        boolean h;
        if (provisional) {
            h = passed;
        } else if (healthy) {
            h = f < fall;
        } else {
            h = p >= rise;
        }
        return new RiseFall(h, false, p, f, true);
    }

    private static int sat(int v) {
        return v < 0 ? Integer.MAX_VALUE : v;
    }
}
