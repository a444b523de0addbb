package io.lbkit.proxy.engine;

/** Where the rules write header fields: the engine's own header container for the backend request or the client response. */
public interface HeaderSink {

    /** Adds a field, keeping any field of the same name. */
    void add(String name, String value);

    /**
     * Adds a field given as character sequences (an engine's ASCII strings); the default copies
     * them to strings, an engine whose container takes them as they are overrides it.
     */
    default void add(CharSequence name, CharSequence value) {
        add(name.toString(), value.toString());
    }

    /** Sets a field, replacing every field of the same name. */
    void set(String name, String value);
}
