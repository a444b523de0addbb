package io.lbkit.core;

/** Thrown by {@link Selection#endpoint()} when a pick found no endpoint. */
public final class NoEndpointException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final Selection.NoEndpointReason reason;

    NoEndpointException(Selection.NoEndpointReason reason) {
        super("no endpoint available: " + reason);
        this.reason = reason;
    }

    /** Why no endpoint was chosen. */
    public Selection.NoEndpointReason reason() {
        return reason;
    }
}
