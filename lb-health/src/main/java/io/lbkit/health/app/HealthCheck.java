package io.lbkit.health.app;

import java.util.Objects;
import java.util.concurrent.Callable;

/**
 * One application check. It returns a {@link Health} or throws; a throw is DOWN with the exception's
 * class and message as detail, {@code null} is DOWN too. Checks run on the {@link ApplicationHealth}
 * executor with a timeout, so a check may block (e.g. a Redis PING).
 */
@FunctionalInterface
public interface HealthCheck {

    Health check() throws Exception;

    /** UP when {@code action} returns (whatever it returns), DOWN when it throws: {@code succeeds(redis::ping)}. */
    static HealthCheck succeeds(Callable<?> action) {
        Objects.requireNonNull(action, "action");
        return () -> {
            action.call();
            return Health.up();
        };
    }
}
