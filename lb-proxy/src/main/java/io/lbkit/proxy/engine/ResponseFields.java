package io.lbkit.proxy.engine;

import java.util.function.BiConsumer;

/**
 * The header fields of a backend response as the rules read them: a view over the engine's own
 * field container, which it must not copy.
 */
@FunctionalInterface
public interface ResponseFields {

    /** Calls {@code action} with each field's name (as received) and value, in order. */
    void forEach(BiConsumer<String, String> action);
}
