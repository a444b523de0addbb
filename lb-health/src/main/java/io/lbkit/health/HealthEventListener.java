package io.lbkit.health;

/**
 * Receives every {@link HealthEvent} of a {@link HealthMonitor}, one at a time and in order, on the
 * monitor's serialized context. It must not block; an exception it throws is logged and ignored.
 */
@FunctionalInterface
public interface HealthEventListener {
    void onEvent(HealthEvent event);
}
