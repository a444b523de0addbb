package io.lbkit.proxy.engine;

/**
 * A {@link HeaderSink} for a client response whose head is not written yet: it can also read back
 * and remove fields, so a rule can replace one value among several (a {@code Set-Cookie} of one
 * cookie name).
 */
public interface ResponseHeaderSink extends HeaderSink {

    /** Every value of field {@code name} (any case) written so far, in order. */
    Iterable<String> values(String name);

    /** Removes every field named {@code name} (any case). */
    void remove(String name);
}
