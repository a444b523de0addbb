package io.lbkit.proxy.engine;

import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * The header fields of a backend response as the rules read them: a view over the engine's own
 * field container, which it must not copy.
 */
@FunctionalInterface
public interface ResponseFields {

    /** Calls {@code action} with each field's name (as received) and value, in order. */
    void forEach(BiConsumer<String, String> action);

    /** A view over fields kept as name/value pairs (a fan-out leg's, {@link FanOutAggregator.Leg#fields()}). */
    static ResponseFields of(List<Map.Entry<String, String>> fields) {
        return action -> {
            for (int i = 0; i < fields.size(); i++) {
                Map.Entry<String, String> f = fields.get(i);
                action.accept(f.getKey(), f.getValue());
            }
        };
    }
}
