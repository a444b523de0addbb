package io.lbkit.proxy.engine;

/** Where the rules write header fields: the engine's own header container for the backend request or the client response. */
public interface HeaderSink {

    /** Adds a field, keeping any field of the same name. */
    void add(String name, String value);

    /** Sets a field, replacing every field of the same name. */
    void set(String name, String value);
}
