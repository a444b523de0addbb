package io.lbkit.core;

/** Administrative state of an endpoint, changed through {@link Upstream#setState}. */
public enum EndpointState {
    /** Takes new requests. */
    UP,
    /**
     * Takes no new requests, but requests that prefer it (sticky-bound clients, see
     * {@link PickRequest#preferred(String)}) still reach it; nginx {@code drain}.
     */
    DRAINING,
    /** Takes no requests at all; nginx {@code down}. */
    DOWN
}
