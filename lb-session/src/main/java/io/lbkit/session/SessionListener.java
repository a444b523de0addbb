package io.lbkit.session;

/** Receives session events. Must not block: it may run on a store's I/O thread. */
@FunctionalInterface
public interface SessionListener {
    void onEvent(SessionEvent event);
}
