package io.lbkit.proxy.engine;

/**
 * What an engine counts {@code stub_status} with: {@link StubStatus} itself (from any thread) or
 * the counters of one thread, {@link StubStatus#owned()}.
 */
public interface StubCounters {
    /** A connection was accepted and will be served: it starts {@link StubStatus#WAITING}. */
    int opened();

    /** The connection in state {@code state} closed. */
    void closed(int state);

    /** A request started (nginx counts it when its first bytes are read). */
    void request();

    /** Moves a connection from {@code from} to {@code to}; returns {@code to}. */
    int move(int from, int to);
}
