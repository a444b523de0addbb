package io.lbkit.server;

import io.lbkit.core.EndpointState;
import io.lbkit.health.EndpointHealthState;
import io.lbkit.health.HealthMonitor;
import java.util.Locale;

/** An endpoint's administrative state as the admin API, the state file and a reload set it. */
final class AdminState {

    private AdminState() {
    }

    /** Sets the state through the monitor: drain keeps sticky clients (nginx {@code drain}), down is maintenance. */
    static void apply(HealthMonitor monitor, String id, EndpointState state) {
        switch (state) {
            case UP -> monitor.enable(id);
            case DRAINING -> monitor.drain(id);
            case DOWN -> monitor.maintenance(id);
            default -> throw new IllegalStateException(state.name());
        }
    }

    /** The administrative state the monitor holds now ({@code up} for every health state). */
    static EndpointState of(HealthMonitor monitor, String id) {
        EndpointHealthState s = monitor.state(id).orElse(EndpointHealthState.UP);
        return s == EndpointHealthState.DRAINING ? EndpointState.DRAINING
                : s == EndpointHealthState.DOWN ? EndpointState.DOWN : EndpointState.UP;
    }

    /** {@code up}, {@code drain} or {@code down} (nginx's words). */
    static String name(EndpointState state) {
        return state == EndpointState.DRAINING ? "drain" : state.name().toLowerCase(Locale.ROOT);
    }

    /** Reads {@code up}, {@code drain} (or {@code draining}) or {@code down}; null for anything else. */
    static EndpointState parse(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "up" -> EndpointState.UP;
            case "drain", "draining" -> EndpointState.DRAINING;
            case "down" -> EndpointState.DOWN;
            default -> null;
        };
    }
}
